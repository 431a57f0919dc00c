"""Health data: blood-pressure readings, the consent they need, terminal pairings, settings.

Readings are sensitive personal information (PIPL art. 28): a row exists only for a resident
with a consent in force, and withdrawing deletes them all. Nothing here holds a value that
may be shown in a list; StaffAlert summaries say "measured", never a number.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum


class ConsentChannel(enum.StrEnum):
    KIOSK = "kiosk"  # the resident read the notice and tapped "I agree" while signed in
    PAPER = "paper"  # a signed form, recorded by staff
    # A withdrawal the resident phoned in, recorded by staff (never a consent: that needs a
    # signature or the resident's own tap). Plain text column, so no migration.
    PHONE = "phone"


class HealthConsent(Base):
    """A resident's separate consent (PIPL art. 29) to keep their readings.

    One row per consent given; withdrawing closes the row rather than deleting it, so the
    record of what was agreed, when, how and to which notice outlives the data itself.
    """

    __tablename__ = "health_consents"
    __table_args__ = (Index("ix_health_consents_resident", "resident_id", "withdrawn_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[ConsentChannel] = mapped_column(str_enum(ConsentChannel))
    notice_version: Mapped[str] = mapped_column(String(20))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_channel: Mapped[ConsentChannel | None] = mapped_column(str_enum(ConsentChannel))


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


class PairingStatus(enum.StrEnum):
    WAITING = "waiting"  # paired; the resident has not started the cuff yet
    MEASURING = "measuring"  # the terminal said measurement_started
    DONE = "done"  # a reading was stored for the resident (``reading_id``)
    FAILED = "failed"  # the measurement failed or the reading was refused (``failure``)
    EXPIRED = "expired"  # no reading within the pairing window
    CANCELLED = "cancelled"  # the resident gave up, or someone else's card took the terminal

    @property
    def is_open(self) -> bool:
        return self in (PairingStatus.WAITING, PairingStatus.MEASURING)


class TerminalPairing(Base):
    """ "Measure now" at the kiosk: the signed-in resident owns the terminal's next reading,
    if it comes within the window. The kiosk's waiting screen polls this row."""

    __tablename__ = "bp_terminal_pairings"
    __table_args__ = (Index("ix_bp_pairings_device_status", "device_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    device_id: Mapped[str] = mapped_column(String(40))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    status: Mapped[PairingStatus] = mapped_column(
        str_enum(PairingStatus), default=PairingStatus.WAITING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    measuring_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reading_id: Mapped[int | None] = mapped_column(
        ForeignKey("bp_readings.id", ondelete="SET NULL")
    )
    # A measurement_error code ("cuff_error" …), "impossible_reading" or "other_card".
    failure: Mapped[str | None] = mapped_column(String(40))

    # --- state changes: the only writers of ``status`` (waiting -> measuring -> finished) ---

    def start_measuring(self, now: datetime) -> None:
        """The terminal said the cuff started; only a waiting pairing moves on."""
        if self.status is PairingStatus.WAITING:
            self.status = PairingStatus.MEASURING
            self.measuring_since = now

    def finish(self, status: PairingStatus, now: datetime, failure: str | None = None) -> None:
        """The pairing ends (done, failed, expired, cancelled); an ended one never reopens."""
        if status.is_open or not self.status.is_open:
            raise ValueError(f"a pairing cannot go from {self.status} to {status}")
        self.status = status
        self.finished_at = now
        self.failure = failure


class HealthSettings(Base):
    """A site's choice of guideline and how long readings are kept (defaults without a row)."""

    __tablename__ = "health_settings"
    __table_args__ = (UniqueConstraint("site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    ruleset: Mapped[str] = mapped_column(String(20))
    retention_days: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
