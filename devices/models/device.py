"""The registry of devices: each locker or terminal, its site, its broker credentials and what
it last said about itself."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import booking.tables  # noqa: F401  (sites, which devices refer to)
from booking.core.db import Base, UTCDateTime, str_enum
from booking.core.errors import Conflict


class DeviceKind(enum.StrEnum):
    LOCKER = "locker"
    BP_TERMINAL = "bp_terminal"
    # The card reader and QR scanner beside a kiosk screen (docs/protocol.md §8.1).
    KIOSK_READER = "kiosk_reader"


class Device(Base):
    """A locker or terminal at a site, as the server knows it.

    ``device_id`` is unique across the deployment: it is the broker username, the
    MQTT client id and a segment of every topic the device uses.
    """

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("device_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[DeviceKind] = mapped_column(str_enum(DeviceKind))
    name: Mapped[str] = mapped_column(String(100), default="")
    # The broker password, hashed for Mosquitto's password file (PBKDF2-SHA512, its own format).
    mqtt_password_hash: Mapped[str] = mapped_column(String(200))
    firmware: Mapped[str | None] = mapped_column(String(40))
    capabilities: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    online: Mapped[bool] = mapped_column(default=False)
    online_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sparkplug's bdSeq: the device's connect counter, to tell a stale Last Will from a live one.
    session_counter: Mapped[int | None]
    last_seq: Mapped[int | None]
    # From the device's birth; the silence check allows three missed heartbeats.
    heartbeat_s: Mapped[int | None]
    # The newest (session, seq), packed as devices.fleet.registry.version, whose ledger row the
    # retention job may have deleted: at or below it, a message missing from the ledger may
    # have been applied already (devices/fleet/retention.py).
    ledger_pruned_through: Mapped[int | None] = mapped_column(BigInteger)
    # The (session, seq), packed, of the newest full state applied, which spoke of every field
    # of every compartment: a field is as new as this or its own version, whichever is newer
    # (devices.fleet.registry.apply_state_snapshot). -1: none yet, or the counter was reset.
    state_version: Mapped[int] = mapped_column(BigInteger, default=-1, server_default="-1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Set when staff revoke its broker credentials (the broker refuses it from then on);
    # cleared when it is given new ones.
    credentials_revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A kiosk reader's pairing code, hashed, while staff wait to type it at a kiosk screen
    # (devices/kiosk_reader/pairing.py).
    pairing_code_hash: Mapped[str | None] = mapped_column(String(64))
    pairing_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An open seq gap (docs/protocol.md §3): seqs gap_first_seq..gap_last_seq of session
    # gap_session were missing when a later one was applied. With several workers sharing a
    # device's messages the later one often commits first, so the resync waits a moment
    # (devices.ingest.gaps): the scheduler's job closes the gap once the ledger holds them all,
    # or asks for the resync once the wait is over. Indexed for that job's look.
    gap_session: Mapped[int | None]
    gap_first_seq: Mapped[int | None]
    gap_last_seq: Mapped[int | None]
    gap_noticed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    def revoke_credentials(self, now: datetime) -> None:
        if self.credentials_revoked_at is not None:
            raise Conflict(f"the credentials of {self.device_id} are revoked already")
        self.credentials_revoked_at = now

    def offer_pairing(self, code_hash: str, expires_at: datetime) -> None:
        """A new pairing code replaces any earlier one."""
        self.pairing_code_hash = code_hash
        self.pairing_code_expires_at = expires_at

    def end_pairing_offer(self) -> None:
        """The code was used (or given up): it pairs no second screen."""
        self.pairing_code_hash = None
        self.pairing_code_expires_at = None

    def new_credentials(self, password_hash: str) -> None:
        self.mqtt_password_hash = password_hash
        self.credentials_revoked_at = None

    def open_gap(self, session: int, first: int, last: int, now: datetime) -> None:
        """Seqs ``first``..``last`` of ``session`` are missing. An open gap of the same session
        widens to cover them and keeps the moment it was first noticed, so that a device whose
        messages keep arriving out of order still gets its resync one wait after the first
        missing one, never later; a gap of another session is replaced."""
        if (
            self.gap_session == session
            and self.gap_first_seq is not None
            and self.gap_last_seq is not None
        ):
            self.gap_first_seq = min(self.gap_first_seq, first)
            self.gap_last_seq = max(self.gap_last_seq, last)
            return
        self.gap_session, self.gap_first_seq, self.gap_last_seq = session, first, last
        self.gap_noticed_at = now

    def close_gap_before(self, session: int, seq: int) -> None:
        """A birth at (``session``, ``seq``) carries the whole state: a gap of that session
        before it needs no resync (an event in it is re-sent until acknowledged anyway)."""
        if self.gap_session == session and (self.gap_last_seq or 0) < seq:
            self.close_gap()

    def close_gap(self) -> None:
        """The missing messages came, a resync was asked for or a newer session began (its
        birth carries the whole state)."""
        if self.gap_session is not None:
            self.gap_session = self.gap_first_seq = self.gap_last_seq = None
            self.gap_noticed_at = None


# --- ingest: what the bridge applied, what it refused, and the device state it keeps -----------


# --- the command outbox and the device link: how the web reaches devices without MQTT --------
