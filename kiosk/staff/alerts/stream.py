"""New alerts, and alerts colleagues acted on, pushed to the open inbox as server-sent events.

The web runs as several gunicorn processes and alerts are raised by any of them or by the
worker, so there is no in-process pub/sub to listen to: the stream asks the database for
alerts above the last id it sent, every few seconds, each time in a short read transaction
that ends before it sleeps. A stream lasts about a minute and then ends; the browser's
EventSource reconnects on its own (after ``retry``) and sends the last id back as
``Last-Event-ID``, so an ended stream loses nothing and a worker is never held for long.

Two cursors travel in each event id, ``<alert id>-<change time in ms>``: the highest alert id
sent (for ``alert`` events, new alerts) and the latest acknowledgement or resolution sent (for
``change`` events, which move or remove an alert on the page). Each poll also re-reads the
staff session, so a console signed out elsewhere, disabled or whose password changed stops
receiving at the next poll; and the sign-in's current centre, so a stream whose console
switched centre in another tab, or whose grant to this centre was taken away, stops sending
this centre's alerts at the next poll rather than when it would have ended (``centre_changed``:
the page reloads, showing the centre it now works at).

Each open inbox holds one of the web worker's threads for as long as its stream runs, so a
worker serves at most ``STAFF_ALERT_STREAMS_PER_WORKER`` streams at once (8 of gunicorn's 16
threads by default), and its other threads stay free for pages. A stream past the limit is
answered at once with ``retry`` and a ``busy`` event: the page's EventSource comes back by
itself a little later, and the alerts it missed meanwhile arrive then, from its cursor.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from flask import Response, abort, current_app, g, render_template, request, stream_with_context
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from wtforms import StringField

from booking.alerts import history as alert_history
from booking.people import auth_sessions, staff_sites
from kiosk.extensions import clock, database
from kiosk.staff import session as staff_session
from kiosk.staff.alerts import words as alert_words
from kiosk.staff.alerts.forms import AcknowledgeForm, ResolveForm
from kiosk.staff.session import console_site_id

STREAM_SECONDS = 55.0
POLL_SECONDS = 2.0
HEARTBEAT_SECONDS = 15.0
RETRY_MS = 3000
STREAMS_PER_WORKER = 8
# A refused stream comes back after this long (the browser's EventSource does it).
BUSY_RETRY_MS = 10_000
_SLOTS_KEY = "linli.alert_stream_slots"
# Ids are taken at insert, not at commit: an alert of a slower transaction may appear below
# the highest id already sent. Each poll looks this far back and skips what it has sent.
LOOKBACK_IDS = 20
MAX_ID = 2**62
# Change cursors are milliseconds since 1970; anything past year 9999 is not one.
MAX_MS = 253_402_300_799_000
_EVENT_ID = re.compile(r"[0-9]+(-[0-9]+)?")


class StreamStartForm(FlaskForm):  # type: ignore[misc]
    """The page's cursors on first connect (a GET: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    after = StringField()
    changes = StringField()


def _setting(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


def _number(raw: str, limit: int) -> int:
    if not (raw.isascii() and raw.isdigit()) or int(raw) > limit:
        abort(400)
    return int(raw)


def _start() -> tuple[int, datetime | None]:
    """Where the client left off: ``Last-Event-ID`` on a reconnect, else ``?after=&changes=``.

    Returns the highest alert id seen and the time of the latest change seen (None: the page
    did not say, so changes are followed from now).
    """
    last_event = request.headers.get("Last-Event-ID")
    if last_event:
        if not _EVENT_ID.fullmatch(last_event):
            abort(400)
        raw_id, _sep, raw_ms = last_event.partition("-")
    else:
        cursor = StreamStartForm(request.args)
        raw_id, raw_ms = cursor.after.data or "", cursor.changes.data or ""
    alert_id = _number(raw_id, MAX_ID) if raw_id else 0
    changes = _from_ms(_number(raw_ms, MAX_MS)) if raw_ms else None
    return alert_id, changes


def to_ms(moment: datetime) -> int:
    """A change cursor as the page and the event ids carry it."""
    return int(moment.timestamp() * 1000)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _slots() -> threading.BoundedSemaphore:
    """This worker's stream slots (one app per gunicorn process: the limit is per worker)."""
    slots = current_app.extensions.get(_SLOTS_KEY)
    if slots is None:
        limit = int(current_app.config.get("STAFF_ALERT_STREAMS_PER_WORKER", STREAMS_PER_WORKER))
        slots = current_app.extensions.setdefault(_SLOTS_KEY, threading.BoundedSemaphore(limit))
    assert isinstance(slots, threading.BoundedSemaphore)
    return slots


def _busy() -> Response:
    body = f"retry: {BUSY_RETRY_MS}\nevent: busy\ndata: {{}}\n\n"
    response = Response(body, mimetype="text/event-stream")
    response.headers["Retry-After"] = str(BUSY_RETRY_MS // 1000)
    return response


def stream() -> Response:
    slots = _slots()
    if not slots.acquire(blocking=False):
        return _busy()
    try:
        response = _open_stream()
    except BaseException:
        slots.release()
        raise
    # Released when the server closes the response: at its end, or when the browser goes.
    response.call_on_close(slots.release)
    return response


def _open_stream() -> Response:
    site_id: int = console_site_id()
    token: str = g.staff_token or ""
    start, changes_from = _start()
    generate_csrf()  # into the session now: forms rendered later in the stream reuse it
    db, clk = database(), clock()
    idle = staff_session.idle_limit()
    duration = _setting("STAFF_ALERT_STREAM_SECONDS", STREAM_SECONDS)
    poll = _setting("STAFF_ALERT_POLL_SECONDS", POLL_SECONDS)
    heartbeat = _setting("STAFF_ALERT_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS)

    def events() -> Iterator[str]:
        yield f"retry: {RETRY_MS}\n\n"
        cursor = start
        changed = changes_from or clk.now()
        sent: set[int] = set()
        changes_sent: set[tuple[int, str]] = set()
        began = last_beat = time.monotonic()
        while True:
            with db.read() as session:
                account = auth_sessions.live_staff(
                    session, token=token, now=clk.now(), idle_limit=idle
                )
                if account is None:
                    # The browser reconnects, is sent to sign in, and stops on that answer.
                    yield "event: signed_out\ndata: {}\n\n"
                    return
                if staff_sites.console_site_id(session, staff=account, token=token) != site_id:
                    yield "event: centre_changed\ndata: {}\n\n"
                    return
                found = alert_history.alerts_after(
                    session, site_id=site_id, after_id=max(0, cursor - LOOKBACK_IDS)
                )
                views = [alert_words.view(a, clk.now()) for a in found if a.id not in sent]
                acted_on = alert_history.changed_since(
                    session, site_id=site_id, since=changed - alert_history.CHANGE_LOOKBACK
                )
                moved = [
                    (alert_words.view(a, clk.now()), a.changed_at)
                    for a in acted_on
                    if (a.id, a.status.value) not in changes_sent
                ]
            for view in views:
                sent.add(view.id)
                cursor = max(cursor, view.id)
                yield _event(view, f"{cursor}-{to_ms(changed)}")
            for view, changed_at in moved:
                changes_sent.add((view.id, view.status))
                changed = max(changed, changed_at)
                yield _change(view, f"{cursor}-{to_ms(changed)}")
            if time.monotonic() - began >= duration:
                return
            if time.monotonic() - last_beat >= heartbeat:
                last_beat = time.monotonic()
                yield ": still here\n\n"
            time.sleep(poll)

    response = Response(stream_with_context(events()), mimetype="text/event-stream")
    # nginx would otherwise hold the events back in its buffer.
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _item_html(view: alert_words.AlertView) -> str:
    return render_template(
        "staff/_alert_item.html",
        alert=view,
        ack_form=AcknowledgeForm(formdata=None),
        resolve_form=ResolveForm(formdata=None),
    )


def _event(view: alert_words.AlertView, event_id: str) -> str:
    html = _item_html(view)
    data = json.dumps(
        {
            "id": view.id,
            "rank": view.severity_rank,
            "severity": view.severity,
            "announce": f"{view.severity_label}: {view.kind_label}. {view.summary}",
            "html": html,
        },
        ensure_ascii=False,
    )
    return f"id: {event_id}\nevent: alert\ndata: {data}\n\n"


def _change(view: alert_words.AlertView, event_id: str) -> str:
    """A colleague acknowledged (the page replaces the alert) or resolved it (the page drops it)."""
    data = json.dumps(
        {
            "id": view.id,
            "status": view.status,
            "announce": f"{view.status_label}: {view.kind_label}",
            "html": "" if view.is_resolved else _item_html(view),
        },
        ensure_ascii=False,
    )
    return f"id: {event_id}\nevent: change\ndata: {data}\n\n"
