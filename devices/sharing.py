"""How several workers' bridges share a site's device topics, by role.

On PostgreSQL several ``linli worker`` processes may run (docs/architecture.md, "Several
workers"). Their bridges share the device traffic through one shared subscription
(``$share/linli-{site}/…``), which Mosquitto serves round robin to MQTT 3.1.1 clients too;
the leader (the scheduler's, :mod:`kiosk.scheduler_lock`) alone publishes commands and the
server's status, and hears the retained ``status`` and ``state``.

A shared group's member keeps no session (``clean_session``): Mosquitto goes on queueing a
share of the traffic for a member's persistent session while it is away (its round robin
passes over every session, connected or not), so a worker gone for good would hold those
messages for ever. With a clean session a dead worker leaves the group at once; what was in
flight to it is lost at the broker, and the devices re-send every event they have no ack for
(docs/protocol.md §5).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any

from devices.protocol import messages as protocol

log = logging.getLogger(__name__)


class Role(Enum):
    """What a worker's bridge does, by how many workers the deployment runs."""

    # The one worker of an SQLite deployment: a persistent session of a fixed client id,
    # plain subscriptions, commands and the server's status.
    SOLE = "sole"
    # Of several workers (PostgreSQL), the one holding the scheduler lock: the shared
    # subscription, plus plain ones for the retained kinds, commands and the server's status.
    LEADER = "leader"
    # Of several workers, one of the others: the shared subscription only.
    FOLLOWER = "follower"
    # A leader that was a follower until the last leader died or let go: it does what a
    # leader does, but its first `online` asks the devices for no re-birth. Its follower's
    # bridges heard the shared traffic until a moment before, the retained kinds come with its
    # plain subscriptions, the devices re-send every unacked event, and a birth or state lost
    # in flight to the dead leader shows as a gap in seq, which the gap job asks for (docs/
    # protocol.md §3 rule 3). A re-birth of every device cost the survivor about 3 s of CPU
    # for 400 lockers while residents' commands waited behind it (docs/scaling.md item 10).
    SUCCESSOR = "successor"

    @property
    def shared(self) -> bool:
        return self is not Role.SOLE

    @property
    def leads(self) -> bool:
        return self is not Role.FOLLOWER

    @property
    def asks_rebirth(self) -> bool:
        """Whether the first `online` of a bridge of this role asks the devices to re-birth;
        every later one does (a reconnect of its own may have lost what was in flight)."""
        return self is not Role.SUCCESSOR


class BridgeStop(threading.Event):
    """Set to stop a bridge. :meth:`hand_over` when its worker lost the scheduler lock and
    goes on as a follower: another worker may lead by now, and a leader's `offline` published
    after that one's `online` would be retained over it, telling every device that connects
    that the server is gone while it is not."""

    def __init__(self) -> None:
        super().__init__()
        self.handed_over = False
        self.drain_s = 0.0
        # Set when the worker itself is told to stop during a drain: a SIGTERM must not wait
        # up to the drain's 20 s and then systemd's TimeoutStopSec SIGKILL the worker.
        self.drain_cut = threading.Event()

    def hand_over(self) -> None:
        self.handed_over = True
        self.set()

    def drain(self, seconds: float) -> None:
        """Stop once the bridge has heard the last of its subscriptions and committed what it
        received, taking at most ``seconds`` for that (:meth:`devices.bridge.Bridge.stop`)."""
        self.drain_s = seconds
        self.set()

    def cut_drain(self) -> None:
        """End a drain now: what is still uncommitted stays unacknowledged and comes again."""
        self.drain_cut.set()


def says_offline(stop: threading.Event) -> bool:
    """Whether a leading bridge stopped by ``stop`` publishes the server's `offline`."""
    return not (isinstance(stop, BridgeStop) and stop.handed_over)


def drain_seconds(stop: threading.Event) -> float:
    """How long a bridge stopped by ``stop`` may take to finish what it received."""
    return stop.drain_s if isinstance(stop, BridgeStop) else 0.0


def drain_cut(stop: threading.Event) -> threading.Event | None:
    """Set when the drain of a bridge stopped by ``stop`` must end at once."""
    return stop.drain_cut if isinstance(stop, BridgeStop) else None


def share_group(site: str) -> str:
    """The shared-subscription group of a site's workers."""
    return f"linli-{site}"


def subscriptions(site: str, role: Role) -> list[str]:
    """The topic filters a bridge of ``role`` subscribes to.

    A shared subscription never receives retained messages (MQTT 5 §4.8.2; Mosquitto does
    the same for 3.1.1 clients), and ``status`` and ``state`` matter most as retained copies:
    the truth about a device now, replayed to whoever subscribes. So the leader takes those
    two kinds on plain subscriptions (a new leader is handed every device's latest at once),
    and the group shares the rest. Each message is then delivered to one worker only.
    """
    if not role.shared:
        return protocol.subscriptions(site)
    group = share_group(site)
    filters = [
        f"$share/{group}/{protocol.PREFIX}/{site}/+/{kind}"
        for kind in protocol.DEVICE_KINDS
        if kind not in protocol.RETAINED_KINDS
    ]
    if role.leads:
        filters += [
            f"{protocol.PREFIX}/{site}/+/{kind}" for kind in sorted(protocol.RETAINED_KINDS)
        ]
    return filters


def server_client_id(site: str, role: Role) -> str:
    """The bridge's MQTT client id: fixed for the one worker (its persistent session), one of
    its own for each of several, or the broker would drop one for the other."""
    if role.shared:
        return f"linli-server-{site}-{uuid.uuid4().hex[:8]}"
    return f"linli-server-{site}"


def server_status(
    site: str, online: bool, now: datetime, *, rebirth: bool = True
) -> dict[str, Any]:
    """The server's retained status message, as paho's ``publish`` and ``will_set`` take it.
    Only a leading bridge sends it: the server is online while a leader is, and a follower's
    death is no outage. ``rebirth=False``: see :attr:`Role.SUCCESSOR`."""
    return {
        "topic": protocol.server_status_topic(site),
        "payload": protocol.server_status_payload(online, now, rebirth=rebirth),
        "qos": 1,
        "retain": True,
    }


class SubscribeWatch:
    """A connection's SUBSCRIBE in flight: what to do once the broker answers it, and the
    filters, to name the ones it refuses.

    A refused filter (the server account's ACL, say: Mosquitto checks a shared subscription
    with its ``$share`` prefix) leaves the bridge deaf to it; it is logged loudly, naming the
    filter, rather than waited on in silence for events that never come.
    """

    def __init__(self) -> None:
        self._pending: dict[int, tuple[list[str], Callable[[], None]]] = {}

    def sent(self, mid: int | None, filters: list[str], then: Callable[[], None]) -> None:
        """One per connection: a SUBSCRIBE of an earlier one will never be answered."""
        self._pending.clear()
        if mid is not None:
            self._pending[mid] = (filters, then)

    def answered(
        self, client: Any, userdata: Any, mid: int, reason_codes: list[Any], properties: Any
    ) -> None:
        """paho's ``on_subscribe`` (callback API version 2)."""
        if mid not in self._pending:
            return
        filters, then = self._pending.pop(mid)
        for topic, code in zip(filters, reason_codes, strict=False):
            if code.is_failure:
                log.error("broker refused the subscription %s (%s): check the server "
                          "account's ACL (docs/operations.md)", topic, code)  # fmt: skip
        then()
