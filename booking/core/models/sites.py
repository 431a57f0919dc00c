from __future__ import annotations

from datetime import time

from sqlalchemy import String, Time
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base


class Site(Base):
    """One neighbourhood service centre. Everything a resident touches belongs to a site."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The slug is part of every MQTT topic of the site's devices: short, lowercase, stable.
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    # Printed on residents' slips and provisioning sheets; empty for sites made before it.
    address: Mapped[str] = mapped_column(String(200), default="", server_default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    opens_at: Mapped[time] = mapped_column(Time, default=time(8, 0))
    closes_at: Mapped[time] = mapped_column(Time, default=time(21, 0))
    # No message to residents between these local times (booking.messages.quiet_hours).
    quiet_from: Mapped[time] = mapped_column(Time, default=time(21, 0), server_default="21:00:00")
    quiet_until: Mapped[time] = mapped_column(Time, default=time(8, 0), server_default="08:00:00")
