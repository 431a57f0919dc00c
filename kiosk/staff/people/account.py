"""A resident's account page in the console: the card (bind at a terminal's reader or by
typing, unbind a lost one), deactivation and reactivation, and merging two accounts of one
person. Each change is a confirmed form; refusals re-show the page with the reason."""

from __future__ import annotations

from typing import Any

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.errors import DomainError, InvalidInput, NotFound
from booking.people import cards, deactivation, merging
from booking.people import residents as resident_service
from booking.people.account_errors import AccountStateWrong, CardTaken, MergeRefused, NoCardBound
from booking.people.models.card_binds import CardBind, CardBindStatus
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import DeactivationReason, Resident
from devices.models.device import Device, DeviceKind
from kiosk.extensions import clock, database
from kiosk.staff.people.account_forms import (
    REASON_LABELS,
    DeactivateForm,
    MergeForm,
    ReactivateForm,
    ReadCardForm,
    TypeCardForm,
    UnbindCardForm,
)
from kiosk.staff.session import console_site_id

FORMS: dict[str, Any] = {
    "read": ReadCardForm,
    "type": TypeCardForm,
    "unbind": UnbindCardForm,
    "deactivate": DeactivateForm,
    "reactivate": ReactivateForm,
    "merge": MergeForm,
}


def _refusal(error: DomainError) -> str:
    """A refused change, in words."""
    words: str
    if isinstance(error, CardTaken):
        words = _("This card is bound to another resident. Unbind it on their page first.")
    elif isinstance(error, NoCardBound):
        words = _("The resident has no card.")
    elif isinstance(error, AccountStateWrong):
        words = _(
            "The account is not in a state that allows this (already deactivated, active, or erased)."
        )
    elif isinstance(error, MergeRefused) and error.details.get("reason") == "bookings_overlap":
        words = _("Both accounts hold a booking at the same time. Cancel one of them first.")
    elif isinstance(error, MergeRefused):
        words = _("An account cannot be merged into itself.")
    elif isinstance(error, InvalidInput):
        words = _("A card number is 1 to 40 letters, digits, - or _.")
    else:
        words = _("This change was refused; nothing was changed.")
    return words


BIND_WORDS = {
    CardBindStatus.WAITING: lambda: _("Waiting for the card on the terminal…"),
    CardBindStatus.BOUND: lambda: _("The card is bound."),
    CardBindStatus.EXPIRED: lambda: _("No card was read in time. Try again."),
    CardBindStatus.CANCELLED: lambda: _("This wait was replaced or cancelled."),
}
FAILURE_WORDS = {
    "card_taken": lambda: _(
        "This card is bound to another resident. Unbind it on their page first."
    ),
    "card_invalid": lambda: _("This card's number cannot be stored; type a card number instead."),
}


def bind_words(bind: CardBind) -> str:
    said: str
    if bind.status is CardBindStatus.REFUSED:
        words = FAILURE_WORDS.get(bind.failure or "")
        said = words() if words else _("The card could not be bound.")
    else:
        said = BIND_WORDS[bind.status]()
    return said


def _terminals(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Device.device_id, Device.name)
        .where(
            Device.site_id == console_site_id(),
            Device.kind.in_((DeviceKind.BP_TERMINAL, DeviceKind.KIOSK_READER)),
        )
        .order_by(Device.name, Device.device_id)
    ).all()
    return [(device_id, name or device_id) for device_id, name in rows]


def _member(session: Session, resident_id: int) -> Resident:
    return resident_service.get_member(session, site_id=console_site_id(), resident_id=resident_id)


def _render(
    session: Session, member: Resident, *, status: int = 200, **sent: FlaskForm
) -> ResponseReturnValue:
    forms: dict[str, Any] = {
        name: sent.get(name) or cls(formdata=None) for name, cls in FORMS.items()
    }
    terminals = _terminals(session)
    forms["read"].terminal.choices = terminals
    if len(terminals) == 1 and not forms["read"].terminal.data:
        forms["read"].terminal.data = terminals[0][0]
    bind = None
    if (bind_id := request.args.get("bind", type=int)) is not None:
        try:
            bind = cards.bind_of(
                session, site_id=console_site_id(), resident_id=member.id, bind_id=bind_id,
                now=clock().now(),
            )  # fmt: skip
        except NotFound:
            bind = None
    merged_into = session.get(Resident, member.merged_into_id) if member.merged_into_id else None
    lending = deactivation.open_lending(session, site_id=console_site_id(), resident_id=member.id)
    return render_template(
        "staff/resident_account.html", resident=member, forms=forms, terminals=terminals,
        bind=bind, bind_words=bind_words(bind) if bind else "", reason_labels=REASON_LABELS,
        merged_into=merged_into, lending=lending,
    ), status  # fmt: skip


def account(resident_id: int) -> ResponseReturnValue:
    # A resident of another centre answers 404 like one who does not exist.
    with database().read() as session:
        return _render(session, _member(session, resident_id))


def _change(
    resident_id: int, name: str, apply: Any, done: str, choices: bool = False
) -> ResponseReturnValue:
    """Validate form ``name``; run ``apply(session, member, form)`` in one write; redirect
    with ``done`` said, or re-show the page with the errors (400) or the refusal (409)."""
    form = FORMS[name]()
    if choices:
        with database().read() as session:
            form.terminal.choices = _terminals(session)
    status = 400
    if form.validate_on_submit():
        try:
            with database().write() as session:
                target = apply(session, _member(session, resident_id), form)
        except NotFound:
            raise
        except DomainError as refused:
            flash(_refusal(refused), "error")
            status = 409 if not isinstance(refused, InvalidInput) else 400
        else:
            flash(done, "success")
            return redirect(
                target or url_for("staff.resident_account", resident_id=resident_id), code=303
            )
    with database().read() as session:
        return _render(session, _member(session, resident_id), status=status, **{name: form})


def read_card(resident_id: int) -> ResponseReturnValue:
    def apply(session: Session, member: Resident, form: ReadCardForm) -> str:
        bind = cards.start_bind(
            session, staff=g.staff, resident=member, device_id=form.terminal.data, now=clock().now()
        )
        return url_for("staff.resident_account", resident_id=member.id, bind=bind.id) + "#card"

    return _change(
        resident_id, "read", apply,
        _("Ask the resident to tap the card on the terminal within two minutes."), choices=True,
    )  # fmt: skip


def bind_status(resident_id: int, bind_id: int) -> ResponseReturnValue:
    """The console polls this while it waits for the tap; the answer is never cached."""
    with database().write() as session:
        member = _member(session, resident_id)
        bind = cards.bind_of(
            session, site_id=console_site_id(), resident_id=member.id, bind_id=bind_id,
            now=clock().now(),
        )  # fmt: skip
        return jsonify(
            status=bind.status.value, message=bind_words(bind), done=not bind.status.is_open
        )


def type_card(resident_id: int) -> ResponseReturnValue:
    def apply(session: Session, member: Resident, form: TypeCardForm) -> None:
        cards.bind_typed(
            session, staff=g.staff, resident=member, card_id=form.card_id.data, now=clock().now()
        )

    return _change(resident_id, "type", apply, _("The card is bound."))


def unbind_card(resident_id: int) -> ResponseReturnValue:
    def apply(session: Session, member: Resident, form: UnbindCardForm) -> None:
        cards.unbind(session, staff=g.staff, resident=member, now=clock().now(), reason="lost")

    return _change(resident_id, "unbind", apply, _("The card is unbound and no longer works."))


def deactivate(resident_id: int) -> ResponseReturnValue:
    def apply(session: Session, member: Resident, form: DeactivateForm) -> None:
        ended = deactivation.deactivate(
            session, staff=g.staff, resident=member,
            reason=DeactivationReason(form.reason.data), now=clock().now(),
        )  # fmt: skip
        flash(_("%(num)d bookings and %(waits)d waits were cancelled.",
                num=len(ended.bookings_ended), waits=ended.waits_ended), "success")  # fmt: skip

    return _change(resident_id, "deactivate", apply, _("The account is deactivated."))


def reactivate(resident_id: int) -> ResponseReturnValue:
    def apply(session: Session, member: Resident, form: ReactivateForm) -> None:
        deactivation.reactivate(session, staff=g.staff, resident=member, now=clock().now())

    return _change(resident_id, "reactivate", apply, _("The account is active again."))


def _other_account(session: Session, text: str) -> Resident:
    phone = resident_service.normalise_phone(text)
    query = (
        select(Resident)
        .join(ResidentMembership)
        .where(ResidentMembership.site_id == console_site_id())
    )
    if resident_service.PHONE_PATTERN.match(phone):
        found = session.scalar(query.where(Resident.phone == phone))
    elif text.isdigit() and len(text) <= 12:
        found = session.scalar(query.where(Resident.id == int(text)))
    else:
        found = None
    if found is None:
        raise _NoOtherAccount()
    return found


class _NoOtherAccount(Exception):  # noqa: N818 - a form error, not a domain one
    """The other account typed for a merge is not a resident of this centre."""


def merge(resident_id: int) -> ResponseReturnValue:
    def apply(session: Session, member: Resident, form: MergeForm) -> str:
        other = _other_account(session, form.other.data)
        survivor, merged = (member, other) if form.survivor.data == "this" else (other, member)
        merging.merge(session, staff=g.staff, survivor=survivor, merged=merged, now=clock().now())
        return url_for("staff.resident_account", resident_id=survivor.id)

    try:
        return _change(resident_id, "merge", apply, _("The accounts are merged."))
    except _NoOtherAccount:
        pass
    form = MergeForm()
    form.other.errors = [_("No resident of this centre has that number or phone.")]
    with database().read() as session:
        return _render(session, _member(session, resident_id), status=400, merge=form)
