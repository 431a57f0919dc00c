"""Registering a device, and rotating or revoking its broker credentials, in the registry and
on the broker together.

The order makes a failure leave nothing half-done:

1. the registry's change is written (and flushed, so a taken device id is refused first) in a
   transaction that stays open;
2. the broker is asked, and its answer awaited (:mod:`devices.fleet.broker_accounts`);
3. only then does the transaction commit.

When the broker refuses or does not answer, the transaction rolls back: no device row, no
new password in the registry, and the console says why. When the broker said yes but the
commit then fails, a new account is deleted again; should that fail too, what is left is an
account the registry does not know, whose password nobody was shown, and the next
registration of that id replaces it. A rotation that the broker applied but the registry did
not record leaves a device locked out with a password nobody saw: staff rotate again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from booking.core.db import Database
from booking.core.models.sites import Site
from devices.fleet import provisioning
from devices.fleet.broker_accounts import BrokerAccounts, BrokerAccountsError, BrokerRefused
from devices.models.device import Device, DeviceKind

Record = Callable[[Session, Device], None]


@dataclass(frozen=True)
class Credentials:
    """What a device needs to sign in, known only on the response that created it."""

    device_id: str
    kind: DeviceKind
    name: str
    site: str
    password: str
    compartments: int | None
    # Whether the broker knows them already (dynsec) or waits for its files (files mode).
    immediate: bool

    @property
    def username(self) -> str:
        return self.device_id

    def topic(self, suffix: str) -> str:
        return f"linli/v1/{self.site}/{self.device_id}/{suffix}"


def _nothing(session: Session, device: Device) -> None:
    return None


def register(
    database: Database,
    accounts: BrokerAccounts,
    *,
    site_id: int,
    device_id: str,
    kind: DeviceKind | str,
    name: str,
    now: datetime,
    compartments: int | None = None,
    record: Record = _nothing,
) -> Credentials:
    """Register a device and give it its broker account; both happen or neither does.

    ``record`` writes the caller's audit entry in the same transaction.
    """
    on_broker = False
    try:
        with database.write() as session:
            device, password = provisioning.register_device(
                session, site_id, device_id, kind, name, now, compartments=compartments
            )
            site = session.get_one(Site, site_id)
            record(session, device)
            credentials = Credentials(
                device.device_id,
                device.kind,
                device.name,
                site.slug,
                password,
                compartments,
                accounts.immediate,
            )
            accounts.create_device(site.slug, device.device_id, device.name, password)
            on_broker = True
    except BrokerRefused:
        # The account may be half-made (a role without its client): take it away again.
        with contextlib.suppress(BrokerAccountsError):
            accounts.delete_device(provisioning.check_device_id(device_id))
        raise
    except BaseException:
        if on_broker:
            with contextlib.suppress(BrokerAccountsError):
                accounts.delete_device(device_id)
        raise
    return credentials


def rotate(
    database: Database,
    accounts: BrokerAccounts,
    *,
    device_id: str,
    site_id: int | None = None,
    record: Record = _nothing,
) -> Credentials:
    """A new password for a device (lifting a revocation); the broker drops the old one and
    disconnects the device at once."""
    with database.write() as session:
        device, password = provisioning.rotate_password(session, device_id, site_id)
        site = session.get_one(Site, device.site_id)
        record(session, device)
        count = device.capabilities.get("compartments") if device.capabilities else None
        credentials = Credentials(
            device.device_id,
            device.kind,
            device.name,
            site.slug,
            password,
            count if isinstance(count, int) else None,
            accounts.immediate,
        )
        accounts.set_password(device.device_id, password)
    return credentials


def revoke(
    database: Database,
    accounts: BrokerAccounts,
    *,
    device_id: str,
    now: datetime,
    site_id: int | None = None,
    record: Record = _nothing,
) -> None:
    """The device may no longer sign in; the broker disconnects it at once."""
    with database.write() as session:
        device = provisioning.revoke_credentials(session, device_id, now, site_id)
        record(session, device)
        accounts.disable(device.device_id)
