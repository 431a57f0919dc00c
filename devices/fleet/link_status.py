"""Whether the device link is live, and which locker compartments the kiosk may offer.

The device link is live when the process that records replies and events (the worker's
bridge) runs and is connected to the broker. The bridge says so in its ``device_links`` row
(:func:`record_link`, by its :class:`~devices.commands.dispatcher.CommandDispatcher`), and
beats it every :data:`BEAT_EVERY`; a beat older than :data:`STALE_AFTER` means the worker is
gone, however it ended. A locker may be offered when the link is live, the locker is online,
and it has reported the compartment's lock, door and item (a birth or state does). Anything
else is not offered: the kiosk says so plainly and sends the resident to the counter.

An offer is a promise the kiosk can keep, not the guard: a command issued while the worker is
down waits in the outbox and expires unsent (:mod:`devices.commands.outbox`), so no door opens.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from booking.core.errors import DomainError
from booking.core.models.sites import Site
from booking.lending.models.tools import Item, ItemStatus
from devices.models.compartments import Compartment
from devices.models.device import Device, DeviceKind
from devices.models.links import DeviceLink, LinkState

BEAT_EVERY = timedelta(seconds=5)
# Three beats missed: a worker that was killed, or hangs, is not there to record anything.
STALE_AFTER = timedelta(seconds=15)


class LinkDown(enum.StrEnum):
    """Why the device link, or one locker behind it, cannot be used now."""

    NOT_RUNNING = "not_running"  # no bridge has run for the site, or it stopped
    NOT_BEATING = "not_beating"  # the bridge's beat is stale: the worker died or hangs
    BROKER_DISCONNECTED = "broker_disconnected"  # the bridge runs but has no broker
    LOCKER_UNKNOWN = "locker_unknown"  # no such locker at the site
    LOCKER_NEVER_CONNECTED = "locker_never_connected"
    LOCKER_OFFLINE = "locker_offline"
    COMPARTMENT_UNKNOWN = "compartment_unknown"  # not reported since the locker connected


@dataclass(frozen=True)
class LinkStatus:
    """``live``, or why not (``reason``); ``since``: when the bridge last said anything."""

    live: bool
    reason: LinkDown | None = None
    since: datetime | None = None


class DevicesUnavailable(DomainError):
    """The device link (or the locker behind it) cannot be used now: nothing is opened."""

    code = "devices_unavailable"
    status = 503


# --- the bridge's side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Beat:
    """A bridge's beat, to be written: its centre, client id and link state at ``at``."""

    site: str
    client_id: str
    state: LinkState
    at: datetime


def record_link(
    session: Session, *, site: str, client_id: str, state: LinkState, now: datetime
) -> DeviceLink:
    """The bridge's beat: its state now (``changed_at`` moves only when the state does)."""
    return record_links(session, [Beat(site, client_id, state, now)])[0]


def record_links(session: Session, beats: Sequence[Beat]) -> list[DeviceLink]:
    """The beats of a worker's bridges (one a centre) in one read and one write, locked in
    centre order: written one transaction each, a worker of 200 centres wrote 40 times a
    second from the thread that sends the commands (devices.commands.group)."""
    rows = {
        link.site: link
        for link in session.scalars(
            select(DeviceLink)
            .where(DeviceLink.site.in_(sorted({beat.site for beat in beats})))
            .order_by(DeviceLink.site)
            .with_for_update()
            .execution_options(populate_existing=True)  # as read under the lock
        )
    }
    for beat in sorted(beats, key=lambda beat: beat.site):
        link = rows.get(beat.site)
        if link is None:
            rows[beat.site] = link = DeviceLink(site=beat.site, client_id=beat.client_id,
                                                state=beat.state, changed_at=beat.at,
                                                beat_at=beat.at)  # fmt: skip
            session.add(link)
            continue
        if link.state is not beat.state or link.client_id != beat.client_id:
            link.changed_at = beat.at
        link.state, link.client_id, link.beat_at = beat.state, beat.client_id, beat.at
    session.flush()
    return [rows[beat.site] for beat in beats]


# --- the web's side ------------------------------------------------------------------------------


def link_status(session: Session, *, site: str, now: datetime) -> LinkStatus:
    """Whether the site's device link is live now (for the kiosk, the console and /healthz)."""
    return _status_of(session.get(DeviceLink, site), now)


def every_link_status(session: Session, *, now: datetime) -> dict[str, LinkStatus]:
    """:func:`link_status` of every centre of the deployment, by slug, in one read (a worker
    bridges every centre, one bridge and one beat each)."""
    rows = session.execute(
        select(Site.slug, DeviceLink).outerjoin(DeviceLink, DeviceLink.site == Site.slug)
    )
    return {slug: _status_of(link, now) for slug, link in sorted(rows, key=lambda row: row[0])}


def _status_of(link: DeviceLink | None, now: datetime) -> LinkStatus:
    if link is None:
        return LinkStatus(False, LinkDown.NOT_RUNNING)
    if link.state is LinkState.STOPPED:
        return LinkStatus(False, LinkDown.NOT_RUNNING, link.changed_at)
    if now - link.beat_at > STALE_AFTER:
        return LinkStatus(False, LinkDown.NOT_BEATING, link.beat_at)
    if link.state is LinkState.DISCONNECTED:
        return LinkStatus(False, LinkDown.BROKER_DISCONNECTED, link.changed_at)
    return LinkStatus(True, None, link.beat_at)


def _site_slug(session: Session, site_id: int) -> str:
    return session.get_one(Site, site_id).slug


def ensure_link_live(session: Session, *, site_id: int, now: datetime) -> None:
    """Raise :class:`DevicesUnavailable` unless the site's device link is live."""
    status = link_status(session, site=_site_slug(session, site_id), now=now)
    if not status.live:
        raise DevicesUnavailable("the device link is down", reason=str(status.reason))


def _known() -> list[ColumnElement[bool]]:
    return [
        Compartment.lock.is_not(None),
        Compartment.door.is_not(None),
        Compartment.item_present.is_not(None),
    ]


def compartment_status(
    session: Session, *, site_id: int, device_id: str, n: int, now: datetime
) -> LinkStatus:
    """Whether compartment ``n`` of the locker may be opened for a resident now."""
    link = link_status(session, site=_site_slug(session, site_id), now=now)
    if not link.live:
        return link
    device = session.scalar(select(Device).where(Device.device_id == device_id))
    if device is None or device.site_id != site_id or device.kind is not DeviceKind.LOCKER:
        return LinkStatus(False, LinkDown.LOCKER_UNKNOWN)
    if device.session_counter is None and device.last_seen_at is None:
        return LinkStatus(False, LinkDown.LOCKER_NEVER_CONNECTED)
    if not device.online:
        return LinkStatus(False, LinkDown.LOCKER_OFFLINE, device.online_changed_at)
    known = session.scalar(
        select(Compartment.id).where(
            Compartment.device_id == device_id, Compartment.n == n, *_known()
        )  # fmt: skip
    )
    if known is None:
        return LinkStatus(False, LinkDown.COMPARTMENT_UNKNOWN)
    return link


def ensure_compartment_usable(
    session: Session, *, site_id: int, device_id: str, n: int, now: datetime
) -> None:
    """Raise :class:`DevicesUnavailable` unless compartment ``n`` may be opened now."""
    status = compartment_status(session, site_id=site_id, device_id=device_id, n=n, now=now)
    if not status.live:
        raise DevicesUnavailable(
            "the locker cannot be used now", reason=str(status.reason), device_id=device_id, n=n
        )


def items_to_offer(
    session: Session, *, site_id: int, now: datetime, tool_type_id: int | None = None
) -> dict[int, int]:
    """The available locker items a resident may take now, as item id → tool type id: the
    link live, the locker online, and the compartment reported holding the item."""
    if not link_status(session, site=_site_slug(session, site_id), now=now).live:
        return {}
    query = (
        select(Item.id, Item.tool_type_id)
        .join(Device, Device.device_id == Item.locker_device_id)
        .join(
            Compartment,
            (Compartment.device_id == Item.locker_device_id) & (Compartment.n == Item.compartment),
        )
        .where(
            Item.site_id == site_id,
            Item.status == ItemStatus.AVAILABLE,
            Device.site_id == site_id,
            Device.online.is_(True),
            *_known(),
            Compartment.item_present.is_(True),
        )
    )
    if tool_type_id is not None:
        query = query.where(Item.tool_type_id == tool_type_id)
    return {item_id: type_id for item_id, type_id in session.execute(query)}


def ensure_offerable(session: Session, *, site_id: int, tool_type_id: int, now: datetime) -> None:
    """Raise :class:`DevicesUnavailable` when available items of the type wait in lockers but
    none can be offered now: the resident hears that the lockers cannot be used, not that
    everything is lent out."""
    waiting = session.scalar(
        select(Item.id)
        .where(
            Item.site_id == site_id,
            Item.tool_type_id == tool_type_id,
            Item.status == ItemStatus.AVAILABLE,
            Item.locker_device_id.is_not(None),
        )
        .limit(1)
    )
    if waiting is not None and not items_to_offer(
        session, site_id=site_id, now=now, tool_type_id=tool_type_id
    ):
        raise DevicesUnavailable("no locker holding this tool can be used now",
                                 tool_type_id=tool_type_id)  # fmt: skip
