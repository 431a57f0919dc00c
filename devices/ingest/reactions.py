"""The extension point of ingest: the functions that react, in the ingest transaction, to
each newly applied event, reply and full state. Domain modules register theirs
(``devices.ingest.handlers`` lists which)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from devices.commands import operations as commands
from devices.models.device import Device
from devices.protocol.messages import Birth, Event, Reply, State

EventHandler = Callable[[Session, Device, Event, datetime], object]
ReplyHandler = Callable[[Session, Device, Reply, datetime], object]
# Called after the registry applied a full state (a birth's or a `state`'s).
StateHandler = Callable[[Session, Device, Birth | State, datetime], object]


class Handlers:
    """The extension point for domain modules: functions called, in the ingest transaction,
    for each newly applied event of a type (``register("door_opened", fn)``), each reply,
    and each full state once the registry has applied it (``register_state``).

    A handler that raises sends its message to the dead letters; nothing it did is kept.
    Replies go to :func:`devices.commands.operations.record_reply` unless told otherwise.
    """

    def __init__(self) -> None:
        self._events: dict[str, list[EventHandler]] = defaultdict(list)
        self._replies: list[ReplyHandler] = [_record_reply]
        self._states: list[StateHandler] = []

    def register(self, event_type: str, handler: EventHandler) -> None:
        self._events[event_type].append(handler)

    def register_reply(self, handler: ReplyHandler) -> None:
        self._replies.append(handler)

    def register_state(self, handler: StateHandler) -> None:
        self._states.append(handler)

    def event(self, session: Session, device: Device, event: Event, now: datetime) -> None:
        for handler in self._events.get(event.type, ()):
            handler(session, device, event, now)

    def reply(self, session: Session, device: Device, reply: Reply, now: datetime) -> None:
        for handler in self._replies:
            handler(session, device, reply, now)

    def state(
        self, session: Session, device: Device, message: Birth | State, now: datetime
    ) -> None:
        for handler in self._states:
            handler(session, device, message, now)


def _record_reply(session: Session, device: Device, reply: Reply, now: datetime) -> None:
    commands.record_reply(session, reply, now)
