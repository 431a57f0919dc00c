"""The kiosk's blood-pressure pages: consent, "measure now", the result, history, withdrawal.

Every page but the service's front page needs a signed-in resident and shows only their
own readings; the kiosk's no-store headers and idle sign-out keep values off the screen
once they leave.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.errors import DomainError
from booking.health import consent as health_consent
from booking.health import operations as health
from booking.health import pairing as health_pairing
from booking.health.models.consents import ConsentChannel
from booking.health.models.pairings import PairingStatus, TerminalPairing
from devices.models.device import Device, DeviceKind
from kiosk import health_chart, health_words
from kiosk.extensions import clock, database
from kiosk.touch import session as kiosk_session
from kiosk.touch.controllers import SERVICES_BY_SLUG
from kiosk.touch.forms import ConsentForm, MeasureForm
from kiosk.touch.messages import message_for

SERVICE = SERVICES_BY_SLUG["blood-pressure"]

CONSENT_GIVEN = _l("Thank you. Your readings will now be kept for you.")
CONSENT_DECLINED = _l(
    "That is fine. You can still measure: the terminal shows your reading, and nothing is kept."
)
WITHDRAWN = _l("You have withdrawn your consent. Your readings have been deleted.")
TERMINAL_BUSY = _l(
    "Someone else is using the blood-pressure terminal. Please try again in a minute."
)
TERMINAL_UNKNOWN = _l("That terminal is not available. Please ask the staff for help.")
CONSENT_FIRST = _l("Please read and agree to the notice first, so that we may keep your readings.")


def _site_now() -> tuple[int, datetime]:
    return kiosk_session.current_site().id, clock().now()


def _resident_or_sign_in() -> ResponseReturnValue | None:
    if kiosk_session.current_resident() is None:
        # Back to this page after signing in; a button pressed is not pressed again for them.
        here = request.full_path.rstrip("?") if request.method == "GET" else url_for("touch.health")
        return redirect(url_for("touch.sign_in_form", next=here))
    return None


def _resident_id() -> int:
    resident = kiosk_session.current_resident()
    assert resident is not None
    return resident.id


def _terminals(session: Session, site_id: int) -> list[Device]:
    return list(
        session.scalars(
            select(Device)
            .where(Device.site_id == site_id, Device.kind == DeviceKind.BP_TERMINAL)
            .order_by(Device.device_id)
        )
    )


def overview() -> ResponseReturnValue:
    """The service page: sign in, or the consent notice, or measure / history."""
    resident = kiosk_session.current_resident()
    if resident is None:
        return render_template("touch/health.html", service=SERVICE, consent=None, terminals=[])
    site_id, _ = _site_now()
    with database().read() as session:
        consent = health.consent_in_force(session, resident.id)
        if consent is None:
            return render_template(
                "touch/health_consent.html",
                service=SERVICE,
                notice_version=health_consent.NOTICE_VERSION,
            )
        latest = health.recent_readings(session, resident.id, limit=1)
        return render_template(
            "touch/health.html",
            service=SERVICE,
            consent=consent,
            terminals=_terminals(session, site_id),
            latest=latest[0] if latest else None,
            words=health_words,
            timezone=ZoneInfo(kiosk_session.current_site().timezone),
        )


def give_consent() -> ResponseReturnValue:
    if (page := _resident_or_sign_in()) is not None:
        return page
    site_id, now = _site_now()
    if ConsentForm.read().text("notice_version") != health_consent.NOTICE_VERSION:
        # The notice changed while the page was open: show the current one again.
        return redirect(url_for("touch.health"))
    with database().write() as session:
        health_consent.give_consent(
            session,
            resident_id=_resident_id(),
            site_id=site_id,
            channel=ConsentChannel.KIOSK,
            now=now,
        )
    flash(str(CONSENT_GIVEN), "info")
    return redirect(url_for("touch.health"))


def decline_consent() -> ResponseReturnValue:
    flash(str(CONSENT_DECLINED), "info")
    return redirect(url_for("touch.home"))


def measure() -> ResponseReturnValue:
    """ "Measure now": pair the resident with the chosen terminal, then wait for its reading."""
    if (page := _resident_or_sign_in()) is not None:
        return page
    site_id, now = _site_now()
    device_id = MeasureForm.read().text("device")
    failure: DomainError | None = None
    pairing_id = 0
    with database().write() as session:
        terminal = session.scalar(
            select(Device).where(
                Device.device_id == device_id,
                Device.site_id == site_id,
                Device.kind == DeviceKind.BP_TERMINAL,
            )
        )
        if terminal is None:
            flash(str(TERMINAL_UNKNOWN), "error")
            return redirect(url_for("touch.health"))
        try:
            pairing_id = health_pairing.start_pairing(
                session,
                site_id=site_id,
                resident_id=_resident_id(),
                device_id=device_id,
                now=now,
            ).id
        except DomainError as error:
            failure = error
    if failure is not None:
        flash(_refusal(failure), "error")
        return redirect(url_for("touch.health"))
    return redirect(url_for("touch.health_waiting", pairing_id=pairing_id))


def _refusal(error: DomainError) -> str:
    if error.code == "terminal_busy":
        return str(TERMINAL_BUSY)
    if error.code == "consent_required":
        return str(CONSENT_FIRST)
    return message_for(error, timezone=kiosk_session.current_site().timezone)


def _pairing(pairing_id: int) -> TerminalPairing:
    _, now = _site_now()
    # A write: looking may be what notices that the window has passed.
    with database().write() as session:
        try:
            pairing = health_pairing.pairing_of(
                session, resident_id=_resident_id(), pairing_id=pairing_id, now=now
            )
        except DomainError:
            abort(404)
        session.expunge(pairing)
    return pairing


def _state(pairing: TerminalPairing) -> dict[str, object]:
    """What the waiting screen shows; never a value (the result page has those)."""
    state: dict[str, object] = {"status": pairing.status.value, "open": pairing.status.is_open}
    if pairing.status is PairingStatus.DONE and pairing.reading_id is not None:
        state["result_url"] = url_for("touch.health_reading", reading_id=pairing.reading_id)
    elif pairing.status is PairingStatus.FAILED:
        state["message"] = health_words.failure_text(pairing.failure)
    elif pairing.status is PairingStatus.EXPIRED:
        state["message"] = str(health_words.EXPIRED)
    elif pairing.status is PairingStatus.CANCELLED:
        state["message"] = (
            health_words.failure_text(pairing.failure)
            if pairing.failure
            else str(health_words.CANCELLED)
        )
    return state


def waiting(pairing_id: int) -> ResponseReturnValue:
    if (page := _resident_or_sign_in()) is not None:
        return page
    pairing = _pairing(pairing_id)
    state = _state(pairing)
    if "result_url" in state:
        return redirect(str(state["result_url"]))
    return render_template(
        "touch/health_waiting.html",
        service=SERVICE,
        pairing=pairing,
        state=state,
        seconds_left=max(0, int((pairing.expires_at - clock().now()).total_seconds())),
    )


def waiting_status(pairing_id: int) -> ResponseReturnValue:
    """Polled by the waiting screen (health.js)."""
    if kiosk_session.current_resident() is None:
        return {"signed_in": False, "home": url_for("touch.home")}, 401
    return _state(_pairing(pairing_id))


def cancel(pairing_id: int) -> ResponseReturnValue:
    if (page := _resident_or_sign_in()) is not None:
        return page
    _, now = _site_now()
    with database().write() as session:
        try:
            health_pairing.cancel_pairing(
                session, resident_id=_resident_id(), pairing_id=pairing_id, now=now
            )
        except DomainError:
            abort(404)
    return redirect(url_for("touch.health"))


def reading(reading_id: int) -> ResponseReturnValue:
    if (page := _resident_or_sign_in()) is not None:
        return page
    with database().read() as session:
        try:
            found = health.reading_of(session, resident_id=_resident_id(), reading_id=reading_id)
        except DomainError:
            abort(404)
        return render_template(
            "touch/health_result.html",
            service=SERVICE,
            reading=found,
            words=health_words,
            timezone=ZoneInfo(kiosk_session.current_site().timezone),
        )


def history() -> ResponseReturnValue:
    if (page := _resident_or_sign_in()) is not None:
        return page
    timezone = kiosk_session.current_site().timezone
    with database().read() as session:
        readings = health.recent_readings(session, _resident_id())
        return render_template(
            "touch/health_history.html",
            service=SERVICE,
            readings=readings,
            chart=health_chart.trend_chart(readings, timezone),
            words=health_words,
            timezone=ZoneInfo(timezone),
        )


def withdraw_form() -> ResponseReturnValue:
    if (page := _resident_or_sign_in()) is not None:
        return page
    with database().read() as session:
        count = health.count_readings(session, _resident_id())
    return render_template("touch/health_withdraw.html", service=SERVICE, count=count)


def withdraw() -> ResponseReturnValue:
    if (page := _resident_or_sign_in()) is not None:
        return page
    site_id, now = _site_now()
    with database().write() as session:
        health_consent.withdraw_consent(
            session,
            resident_id=_resident_id(),
            site_id=site_id,
            channel=ConsentChannel.KIOSK,
            now=now,
        )
    flash(str(WITHDRAWN), "info")
    return redirect(url_for("touch.home"))
