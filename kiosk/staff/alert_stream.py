"""New alerts pushed to the open inbox as server-sent events (``text/event-stream``).

The web runs as several gunicorn processes and alerts are raised by any of them or by the
worker, so there is no in-process pub/sub to listen to: the stream asks the database for
alerts above the last id it sent, every few seconds, each time in a short read transaction
that ends before it sleeps. A stream lasts about a minute and then ends; the browser's
EventSource reconnects on its own (after ``retry``) and sends the last id back as
``Last-Event-ID``, so an ended stream loses nothing and a worker is never held for long.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import Response, abort, current_app, g, render_template, request, stream_with_context
from flask_wtf.csrf import generate_csrf

from booking import alert_history
from kiosk.extensions import clock, database
from kiosk.staff import alert_words
from kiosk.staff.alert_forms import AcknowledgeForm, ResolveForm

STREAM_SECONDS = 55.0
POLL_SECONDS = 2.0
HEARTBEAT_SECONDS = 15.0
RETRY_MS = 3000
# Ids are taken at insert, not at commit: an alert of a slower transaction may appear below
# the highest id already sent. Each poll looks this far back and skips what it has sent.
LOOKBACK_IDS = 20
MAX_ID = 2**62


def _setting(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


def _start_id() -> int:
    """Where the client left off: ``Last-Event-ID`` on a reconnect, else ``?after=``."""
    raw = request.headers.get("Last-Event-ID") or request.args.get("after")
    if raw is None or raw == "":
        return 0
    if not raw.isdigit() or int(raw) > MAX_ID:
        abort(400)
    return int(raw)


def stream() -> Response:
    site_id: int = g.staff.site_id
    start = _start_id()
    generate_csrf()  # into the session now: forms rendered later in the stream reuse it
    db, clk = database(), clock()
    duration = _setting("STAFF_ALERT_STREAM_SECONDS", STREAM_SECONDS)
    poll = _setting("STAFF_ALERT_POLL_SECONDS", POLL_SECONDS)
    heartbeat = _setting("STAFF_ALERT_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS)

    def events() -> Iterator[str]:
        yield f"retry: {RETRY_MS}\n\n"
        cursor = start
        sent: set[int] = set()
        began = last_beat = time.monotonic()
        while True:
            with db.read() as session:
                found = alert_history.alerts_after(
                    session, site_id=site_id, after_id=max(0, cursor - LOOKBACK_IDS)
                )
                views = [alert_words.view(a, clk.now()) for a in found if a.id not in sent]
            for view in views:
                sent.add(view.id)
                cursor = max(cursor, view.id)
                yield _event(view, cursor)
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


def _event(view: alert_words.AlertView, cursor: int) -> str:
    html = render_template(
        "staff/_alert_item.html",
        alert=view,
        ack_form=AcknowledgeForm(formdata=None),
        resolve_form=ResolveForm(formdata=None),
    )
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
    return f"id: {cursor}\nevent: alert\ndata: {data}\n\n"
