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
        """May manage the centre: a centre's admin, and a district admin at every centre."""
        return self.role in (StaffRole.ADMIN, StaffRole.DISTRICT_ADMIN)

    @property
    def is_district_admin(self) -> bool:
        return self.role is StaffRole.DISTRICT_ADMIN
