"""One resident's page in the console: bookings, strikes and suspensions, loans, messages
and their delivery, health consent, and lifting a suspension. Reading values are not shown here: the page links to
the health area's page for the resident, whose every opening is audited."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

from booking.core.errors import DomainError, NotFound
from booking.lending import overdue as lending_overdue
from booking.lending.models.loans import LoanStatus
from booking.lending.models.suspensions import LendingSuspension
from booking.messages import outbox
from booking.people import calendar_feeds, one_time_codes, sign_in_guard, visits
from booking.people import residents as resident_service
from booking.people.models.residents import Resident
from booking.people.models.sign_in_failures import SignInKind
from booking.people.resident_record import resident_record
from booking.spaces import strikes
from booking.spaces.models.bookings import BookingStatus
from booking.spaces.models.suspensions import BookingSuspension
from kiosk.extensions import clock, database
from kiosk.messaging import sms_config
from kiosk.messaging import words as message_words
from kiosk.staff.people import act_for
from kiosk.staff.people.calendar_feed import RevokeFeedForm
from kiosk.staff.people.sign_in_failures import ClearFailuresForm
from kiosk.staff.session import console_site_id

REASON_MAX = 300
MESSAGES_SHOWN = 20
HEALTH_PAGE = "staff.health_resident"

BOOKING_STATUS_LABELS = {
    BookingStatus.HELD: _l("Offered from the waiting list"),
    BookingStatus.PENDING: _l("Waiting for approval"),
    BookingStatus.CONFIRMED: _l("Booked"),
    BookingStatus.CHECKED_IN: _l("Checked in"),
    BookingStatus.ON_LEAVE: _l("On a short leave"),
    BookingStatus.COMPLETED: _l("Completed"),
    BookingStatus.CANCELLED: _l("Cancelled"),
    BookingStatus.REJECTED: _l("Refused"),
    BookingStatus.NO_SHOW: _l("No-show"),
    BookingStatus.RELEASED: _l("Released after a long leave"),
    BookingStatus.EXPIRED: _l("Offer expired"),
}
LOAN_STATUS_LABELS = {
    LoanStatus.ACTIVE: _l("On loan"),
    LoanStatus.OVERDUE: _l("Overdue"),
    LoanStatus.RETURNED: _l("Returned"),
    LoanStatus.LOST: _l("Lost"),
}


class LiftSuspensionForm(FlaskForm):  # type: ignore[misc]
    reason = TextAreaField(
        _l("Why lift it"),
        validators=[
            InputRequired(_l("Say why the suspension is lifted.")),
            Length(
                max=REASON_MAX,
                message=_l("The reason is at most %(max)d characters.", max=REASON_MAX),
            ),
        ],
    )


class ResetPinForm(FlaskForm):  # type: ignore[misc]
    """Resetting a PIN (kiosk.staff.people.pin_reset): only after seeing who asks."""

    identity_checked = BooleanField(
        _l("I checked the resident's identity document in person."),
        validators=[DataRequired(_l("Check the resident's identity first, then tick the box."))],
    )
    # Which button: a printed slip, or (where SMS reaches phones) a text to the resident's own.
    deliver = StringField(
        default="print",
        validators=[AnyOf(("print", "sms"), message=_l("Choose one of the buttons."))],
    )


def _page(
    session: Session,
    member: Resident,
    *,
    seat_form: LiftSuspensionForm | None = None,
    lending_form: LiftSuspensionForm | None = None,
    pin_reset_form: ResetPinForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    record = resident_record(
        session, site_id=console_site_id(), resident_id=member.id, now=clock().now()
    )
    # Rendered inside the session: the record's rows expire when it closes.
    return render_template(
        "staff/resident.html",
        resident=member,
        memberships=len(member.memberships),
        standing=visits.standing(session, resident=member, site_id=console_site_id()),
        record=record,
        seat_form=seat_form or LiftSuspensionForm(prefix="seat"),
        lending_form=lending_form or LiftSuspensionForm(prefix="lending"),
        booking_status_labels=BOOKING_STATUS_LABELS,
        loan_status_labels=LOAN_STATUS_LABELS,
        readings_url=_readings_url(member.id),
        sign_in_failures=sign_in_guard.failures_of(
            session, SignInKind.RESIDENT, member.phone, now=clock().now()
        ),
        clear_failures_form=ClearFailuresForm(),
        calendar_feed=calendar_feeds.live_feed(
            session, resident_id=member.id, site_id=console_site_id()
        ),
        revoke_feed_form=RevokeFeedForm(),
        **act_for.page_extras(session, member, record.upcoming),
        pin_reset_form=pin_reset_form or ResetPinForm(formdata=None),
        code_by_sms=sms_config.reaches_phones(),
        waiting_code=one_time_codes.live_code(session, resident_id=member.id, now=clock().now()),
        messages=outbox.messages_of(session, resident_id=member.id, site_id=console_site_id())[
            :MESSAGES_SHOWN
        ],
        message_kind_label=message_words.kind_label,
        message_state_labels=message_words.STATE_LABELS,
    ), status


def resident_page_with(
    resident_id: int, *, pin_reset_form: ResetPinForm, status: int
) -> ResponseReturnValue:
    """The resident's page again, showing a form's problems (a reset without the box ticked)."""
    with database().read() as session:
        member = resident_service.get_member(
            session, site_id=console_site_id(), resident_id=resident_id
        )
        return _page(session, member, pin_reset_form=pin_reset_form, status=status)


def _readings_url(resident_id: int) -> str | None:
    # The values live on the health area's page for the resident (chart, alerts, export),
    # which audits every opening; this page only links to it.
    if HEALTH_PAGE in current_app.view_functions:
        return url_for(HEALTH_PAGE, resident_id=resident_id)
    return None


def resident(resident_id: int) -> ResponseReturnValue:
    # A resident of another centre answers 404 like one who does not exist.
    with database().read() as session:
        member = resident_service.get_member(
            session, site_id=console_site_id(), resident_id=resident_id
        )
        return _page(session, member)


def _lift(
    resident_id: int,
    kind: str,
    lift: Callable[[Session, Resident, str], None],
) -> ResponseReturnValue:
    """Lift one of the resident's suspensions; a missing reason or a suspension no longer
    in force re-shows the page with the message and changes nothing."""
    form = LiftSuspensionForm(prefix=kind)
    status = 400
    valid = form.validate()
    reason = (form.reason.data or "").strip() if valid else ""
    if valid and not reason:
        form.reason.errors = [_("Say why the suspension is lifted.")]
    elif reason:
        try:
            with database().write() as session:
                member = resident_service.get_member(
                    session, site_id=console_site_id(), resident_id=resident_id
                )
                lift(session, member, reason)
        except NotFound:
            raise
        except DomainError:
            # Said above the page: the lift form is gone once nothing is in force.
            flash(_("This suspension is no longer in force; nothing was changed."), "error")
            status = 409
        else:
            flash(_("The suspension is lifted."), "success")
            return redirect(url_for("staff.resident", resident_id=resident_id), code=303)
    with database().read() as session:
        member = resident_service.get_member(
            session, site_id=console_site_id(), resident_id=resident_id
        )
        return _page(session, member, status=status, **{f"{kind}_form": form})


def lift_seat_suspension(resident_id: int, suspension_id: int) -> ResponseReturnValue:
    def lift(session: Session, member: Resident, reason: str) -> None:
        suspension = session.get(BookingSuspension, suspension_id)
        if suspension is None or suspension.resident_id != member.id:
            raise NotFound("no such suspension of this resident")
        # Audited by the service itself, in this transaction.
        strikes.lift_suspension(
            session, staff_id=g.staff.id, site_id=console_site_id(), suspension_id=suspension_id,
            reason=reason, now=clock().now(),
        )  # fmt: skip

    return _lift(resident_id, "seat", lift)


def lift_lending_suspension(resident_id: int, suspension_id: int) -> ResponseReturnValue:
    def lift(session: Session, member: Resident, reason: str) -> None:
        suspension = session.get(LendingSuspension, suspension_id)
        if suspension is None or suspension.resident_id != member.id:
            raise NotFound("no such suspension of this resident")
        # Audited by the lending service itself, in this transaction.
        lending_overdue.lift_suspension(
            session, staff=g.staff, suspension_id=suspension_id, now=clock().now(), reason=reason
        )

    return _lift(resident_id, "lending", lift)
