"""Blood-pressure readings (their consent, pairings and settings are beside this module).

Readings are sensitive personal information (PIPL art. 28): a row exists only for a resident
with a consent in force, and withdrawing deletes them all. Nothing here holds a value that
may be shown in a list; StaffAlert summaries say "measured", never a number.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime


class BpReading(Base):
    """One measurement, in mmHg whatever unit the terminal reported (kept in ``device_unit``).

    A terminal measures one arm at a time, so (device, measured_at) is the reading's own
    identity: a copy that slipped past the ingest ledger is still stored once.
    """

    __tablename__ = "bp_readings"
    __table_args__ = (
        UniqueConstraint("device_id", "measured_at", name="uq_bp_readings_device_measured"),
        Index("ix_bp_readings_resident_measured", "resident_id", "measured_at"),
        Index("ix_bp_readings_measured", "measured_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    device_id: Mapped[str] = mapped_column(String(40))
    identified_by: Mapped[str] = mapped_column(String(10))  # "card" or "kiosk"
    systolic: Mapped[float]
    diastolic: Mapped[float]
    mean_arterial_pressure: Mapped[float]
    pulse: Mapped[int | None]
    device_unit: Mapped[str] = mapped_column(String(8))
    # The Bluetooth Measurement Status bits: body_movement, cuff_too_loose, irregular_pulse,
    # pulse_out_of_range, improper_position.
    flags: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ruleset: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(20))
    level: Mapped[int]
    isolated_systolic: Mapped[bool] = mapped_column(default=False)
