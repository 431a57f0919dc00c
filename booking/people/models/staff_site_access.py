"""The centres other than its home centre where a staff account may work (a district's
staff often serve two or three centres); a district admin works at every centre without one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime


class StaffSiteAccess(Base):
    """A grant: ``staff_id`` may open the console at ``site_id`` as well as at its home centre,
    managing it there (``as_admin``) or only working there, whatever its home role."""

    __tablename__ = "staff_site_access"
    __table_args__ = (UniqueConstraint("staff_id", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    granted_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    as_admin: Mapped[bool] = mapped_column(default=False, server_default=false())

    def change_role(self, *, as_admin: bool, by: int | None, now: datetime) -> None:
        """Granted again with the other role: the grant now says so, as of ``now``."""
        self.as_admin = as_admin
        self.granted_by = by
        self.granted_at = now
