from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum


class StaffRole(enum.StrEnum):
    STAFF = "staff"
    ADMIN = "admin"
    # Sees and manages every centre of the deployment (one deployment serves one district).
    DISTRICT_ADMIN = "district_admin"


class StaffAccount(Base):
    """A community worker or grid worker who signs in to the staff console."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def is_admin(self) -> bool:
        """May manage the centre it works at: a district admin at every centre; at home, a
        centre's admin; at a centre granted to it, what the grant says (see work_at)."""
        if self.role is StaffRole.DISTRICT_ADMIN:
            return True
        if self.working_site_id == self.site_id:
            return self.role is StaffRole.ADMIN
        return bool(self.__dict__.get("_working_as_admin", False))

    @property
    def is_district_admin(self) -> bool:
        return self.role is StaffRole.DISTRICT_ADMIN

    # The centre this account works at in the current request, which is not a column: the
    # console keeps it per sign-in (StaffSession.site_id) and checks it on every request
    # (booking.people.staff_sites), then tells the account with work_at. Every rule that acts
    # "at the staff's centre" reads working_site_id, never site_id (the home centre).
    @property
    def working_site_id(self) -> int:
        working: int | None = self.__dict__.get("_working_site_id")
        return self.site_id if working is None else working

    def work_at(self, site_id: int, *, as_admin: bool = False) -> None:
        """Act at ``site_id`` from now on (for this object only; nothing is stored), managing
        it when its grant says so (``as_admin``; the home centre goes by the home role)."""
        self.__dict__["_working_site_id"] = site_id
        self.__dict__["_working_as_admin"] = as_admin

    def granted_elsewhere(self, granted: bool) -> None:
        """Tell this object (nothing is stored) whether a centre besides home is granted to
        it, as the request's sign-in check read it (booking.people.staff_sites)."""
        self.__dict__["_granted_elsewhere"] = granted

    @property
    def works_at_home_only(self) -> bool:
        """Known, from this request's sign-in check, to work at its home centre and nowhere
        else: no grant and not a district admin. False when not known (ask the database)."""
        granted: bool | None = self.__dict__.get("_granted_elsewhere")
        return granted is False and not self.is_district_admin
