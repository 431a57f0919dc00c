"""The device link's state as the bridge records it, which the web reads before offering a
locker."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

import booking.tables  # noqa: F401  (sites, which devices refer to)
from booking.core.db import Base, UTCDateTime, str_enum


class LinkState(enum.StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    STOPPED = "stopped"


class DeviceLink(Base):
    """A site's bridge as the web sees it: whether it runs and is connected to the broker.

    The bridge writes the row when its connection changes and beats it every few seconds
    (:mod:`devices.fleet.link_status`); a beat too old means the worker is gone, however it ended.
    """

    __tablename__ = "device_links"

    site: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    state: Mapped[LinkState] = mapped_column(str_enum(LinkState))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
