"""Administration pages, for admins only (others get 403): opening hours, spaces and seats,
tool types and items, devices, the lending policy. Each change goes through
``booking.admin.centre`` (or ``devices.fleet.provisioning``) and is audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from booking.admin import centre as centre_admin
from booking.core import audit
from booking.core.errors import Conflict, DomainError, InvalidInput, NotFound, StillInUse
from booking.core.models.sites import Site
from booking.lending.models.tools import Item, ItemStatus, ToolType
from booking.lending.policy import policy_for
from booking.spaces.models.spaces import Seat, Space, SpaceKind
from devices.fleet import provisioning
from devices.models import Device, DeviceKind
from kiosk.extensions import clock, database
from kiosk.staff.admin.forms import (
    ITEM_STATUS_CHOICES,
    DeviceForm,
    HoursForm,
    ItemForm,
    LendingPolicyForm,
    NewSeatForm,
    NewSpaceForm,
    RetireForm,
    SeatForm,
    SpaceForm,
    ToolTypeForm,
)
from kiosk.staff.auth import admin_required

# Domain errors about one field, shown on that form field in the admin's language.
CONFLICT_MESSAGES = {
    "asset_tag": _l("That asset tag is in use."),
    "compartment": _l("Another item is kept in that compartment."),
    "code": _l("That code is in use."),
    "number": _l("That seat number exists already."),
    "device_id": _l("That device id is registered already."),
}


def _show_error(form: FlaskForm, error: DomainError) -> None:
    """Put a domain error on the form: on its field when there is one, else on the form."""
    field_name = str(error.details.get("field", "")) if hasattr(error, "details") else ""
    field = getattr(form, field_name, None) if field_name else None
    if isinstance(error, Conflict) and field_name in CONFLICT_MESSAGES:
        message = str(CONFLICT_MESSAGES[field_name])
    else:
        message = _("Not saved: %(reason)s", reason=str(error))
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


def _save(form: FlaskForm, change: Callable[[Session], object]) -> bool:
    """Run ``change`` in a write transaction; a domain error goes on the form, nothing saved."""
    try:
        with database().write() as session:
            change(session)
    except NotFound:
        raise
    except (InvalidInput, Conflict) as error:
        _show_error(form, error)
        return False
    return True


@admin_required
def index() -> ResponseReturnValue:
    return render_template("staff/admin/index.html")


# --- opening hours and lending policy -----------------------------------------------------------


@admin_required
def hours() -> ResponseReturnValue:
    with database().read() as session:
        site = session.get_one(Site, g.staff.site_id)
        current = {"opens_at": site.opens_at, "closes_at": site.closes_at}
    form = HoursForm(data=current)
    if form.validate_on_submit():
        if _save(
            form,
            lambda session: centre_admin.update_site_hours(
                session,
                g.staff,
                opens_at=form.opens_at.data,
                closes_at=form.closes_at.data,
                now=clock().now(),
            ),
        ):
            flash(_("Opening hours saved."), "info")
            return redirect(url_for("staff.admin_hours"), 303)
    return _page("staff/admin/hours.html", form=form)


@admin_required
def policy() -> ResponseReturnValue:
    with database().read() as session:
        rules = policy_for(session, g.staff.site_id)
    current = {
        "max_items_on_loan": rules.max_items_on_loan,
        "hold_minutes": int(rules.hold.total_seconds() // 60),
        "door_open_timeout_s": int(rules.door_open_timeout.total_seconds()),
        "overdue_strikes": rules.overdue_strikes,
        "overdue_window_days": rules.overdue_window.days,
        "suspension_days": rules.suspension.days,
        "escalate_after_days": rules.escalate_after.days,
    }
    form = LendingPolicyForm(data=current)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in centre_admin.POLICY_LIMITS}
        if _save(
            form,
            lambda session: centre_admin.save_lending_policy(
                session, g.staff, now=clock().now(), **values
            ),
        ):
            flash(_("Lending rules saved."), "info")
            return redirect(url_for("staff.admin_policy"), 303)
    return _page("staff/admin/policy.html", form=form)


# --- spaces and seats ---------------------------------------------------------------------------


@admin_required
def spaces() -> ResponseReturnValue:
    with database().read() as session:
        found = session.scalars(
            select(Space).where(Space.site_id == g.staff.site_id).order_by(Space.kind, Space.code)
        ).all()
        rows = [
            {
                "id": s.id,
                "code": s.code,
                "kind": s.kind.value,
                "name_zh": s.name_zh,
                "name_en": s.name_en,
                "capacity": s.capacity,
                "needs_approval": s.needs_approval,
                "hours": (s.opens_at, s.closes_at),
                "seats": len(s.seats),
                "retired": s.retired_at is not None,
            }
            for s in found
        ]
    return render_template(
        "staff/admin/spaces.html",
        spaces=[row for row in rows if not row["retired"]],
        retired=[row for row in rows if row["retired"]],
        retire_form=RetireForm(formdata=None),
    )


@admin_required
def new_space() -> ResponseReturnValue:
    form = NewSpaceForm(data={"capacity": 10, "kind": "activity"})
    if form.validate_on_submit() and _save(
        form,
        lambda session: centre_admin.create_space(
            session,
            g.staff,
            code=form.code.data or "",
            kind=SpaceKind(form.kind.data),
            name_zh=form.name_zh.data or "",
            name_en=form.name_en.data or "",
            capacity=form.capacity.data,
            needs_approval=bool(form.needs_approval.data),
            opens_at=form.opens_at.data,
            closes_at=form.closes_at.data,
            now=clock().now(),
        ),
    ):
        flash(_("Space added."), "info")
        return redirect(url_for("staff.admin_spaces"), 303)
    return _page("staff/admin/new_space.html", form=form)


def _retire(change: Callable[[Session], object], back: str, **values: Any) -> ResponseReturnValue:
    """Retire something after a confirmed POST; say why when it is still in use."""
    if not RetireForm().validate_on_submit():
        abort(400)
    try:
        with database().write() as session:
            change(session)
    except StillInUse as refused:
        if refused.details.get("series"):
            flash(_("Not retired: %(n)s booking series still meet here. End them first.",
                    n=refused.details.get("count")), "error")  # fmt: skip
        else:
            flash(_("Not retired: %(n)s bookings or loans are still live. Wait until they "
                    "end or cancel them first.", n=refused.details.get("count")), "error")  # fmt: skip
    except Conflict:
        flash(_("It was retired already."), "info")
    else:
        flash(_("Retired. Its history is kept; it takes no new bookings or loans."), "info")
    return redirect(url_for(back, **values), 303)


@admin_required
def retire_space(space_id: int) -> ResponseReturnValue:
    return _retire(
        lambda session: centre_admin.retire_space(session, g.staff, space_id, now=clock().now()),
        "staff.admin_space",
        space_id=space_id,
    )


@admin_required
def retire_tool_type(tool_type_id: int) -> ResponseReturnValue:
    return _retire(
        lambda session: centre_admin.retire_tool_type(
            session, g.staff, tool_type_id, now=clock().now()
        ),
        "staff.admin_tools",
    )


def _restore(change: Callable[[Session], object], back: str, **values: Any) -> ResponseReturnValue:
    """Put something retired back in use after a confirmed POST."""
    if not RetireForm().validate_on_submit():
        abort(400)
    try:
        with database().write() as session:
            change(session)
    except Conflict:
        flash(_("It was in use already: nothing changed."), "info")
    else:
        flash(_("Restored. It is offered at the kiosk again and takes new bookings or loans."),
              "info")  # fmt: skip
    return redirect(url_for(back, **values), 303)


@admin_required
def restore_space(space_id: int) -> ResponseReturnValue:
    return _restore(
        lambda session: centre_admin.restore_space(session, g.staff, space_id, now=clock().now()),
        "staff.admin_space",
        space_id=space_id,
    )


@admin_required
def restore_tool_type(tool_type_id: int) -> ResponseReturnValue:
    return _restore(
        lambda session: centre_admin.restore_tool_type(
            session, g.staff, tool_type_id, now=clock().now()
        ),
        "staff.admin_tools",
    )


def _space_data(space_id: int) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    with database().read() as session:
        space = session.get(Space, space_id)
        if space is None or space.site_id != g.staff.site_id:
            raise NotFound("no such space", space_id=space_id)
        data = {
            "name_zh": space.name_zh,
            "name_en": space.name_en,
            "capacity": space.capacity,
            "needs_approval": space.needs_approval,
            "opens_at": space.opens_at,
            "closes_at": space.closes_at,
            "retired": space.retired_at is not None,
        }
        seats = [
            {
                "id": seat.id,
                "number": seat.number,
                "has_power": seat.has_power,
                "by_window": seat.by_window,
                "quiet_zone": seat.quiet_zone,
                "map_row": seat.map_row,
                "map_col": seat.map_col,
            }
            for seat in space.seats
        ]
        return data, seats, space.kind.value


@admin_required
def space(space_id: int) -> ResponseReturnValue:
    data, seats, kind = _space_data(space_id)
    form = SpaceForm(data=data)
    if form.validate_on_submit():
        if _save(
            form,
            lambda session: centre_admin.update_space(
                session,
                g.staff,
                space_id,
                name_zh=form.name_zh.data or "",
                name_en=form.name_en.data or "",
                capacity=form.capacity.data,
                needs_approval=bool(form.needs_approval.data),
                opens_at=form.opens_at.data,
                closes_at=form.closes_at.data,
                now=clock().now(),
            ),
        ):
            flash(_("Space saved."), "info")
            return redirect(url_for("staff.admin_space", space_id=space_id), 303)
    return _space_page(space_id, form=form, seats=seats, kind=kind, data=data)


def _space_page(
    space_id: int,
    *,
    form: SpaceForm | None = None,
    new_seat: NewSeatForm | None = None,
    seats: list[dict[str, Any]] | None = None,
    kind: str | None = None,
    data: dict[str, Any] | None = None,
    failed_seat: int | None = None,
    seat_form: SeatForm | None = None,
) -> ResponseReturnValue:
    if seats is None or kind is None or data is None:
        data, seats, kind = _space_data(space_id)
    return _page(
        "staff/admin/space.html",
        space_id=space_id,
        space_name=data["name_zh"],
        form=form or SpaceForm(formdata=None, data=data),
        new_seat=new_seat or NewSeatForm(formdata=None, data={"map_row": 0, "map_col": 0}),
        seat_form=seat_form or SeatForm(formdata=None),
        retire_form=RetireForm(formdata=None),
        retired=data["retired"],
        failed_seat=failed_seat,
        seats=seats,
        kind=kind,
    )


@admin_required
def add_seat(space_id: int) -> ResponseReturnValue:
    form = NewSeatForm()
    if form.validate_on_submit() and _save(
        form,
        lambda session: centre_admin.add_seat(
            session,
            g.staff,
            space_id,
            number=form.number.data,
            has_power=bool(form.has_power.data),
            by_window=bool(form.by_window.data),
            quiet_zone=bool(form.quiet_zone.data),
            map_row=form.map_row.data,
            map_col=form.map_col.data,
            now=clock().now(),
        ),
    ):
        flash(_("Seat added."), "info")
        return redirect(url_for("staff.admin_space", space_id=space_id), 303)
    return _space_page(space_id, new_seat=form)


@admin_required
def seat(seat_id: int) -> ResponseReturnValue:
    with database().read() as session:
        found = session.get(Seat, seat_id)
        if found is None or found.space.site_id != g.staff.site_id:
            raise NotFound("no such seat", seat_id=seat_id)
        space_id = found.space_id
    form = SeatForm()
    if form.validate_on_submit() and _save(
        form,
        lambda session: centre_admin.update_seat(
            session,
            g.staff,
            seat_id,
            has_power=bool(form.has_power.data),
            by_window=bool(form.by_window.data),
            quiet_zone=bool(form.quiet_zone.data),
            map_row=form.map_row.data,
            map_col=form.map_col.data,
            now=clock().now(),
        ),
    ):
        flash(_("Seat saved."), "info")
        return redirect(url_for("staff.admin_space", space_id=space_id), 303)
    return _space_page(space_id, failed_seat=seat_id, seat_form=form)


# --- tool types and items -----------------------------------------------------------------------


@admin_required
def tools() -> ResponseReturnValue:
    with database().read() as session:
        types = session.scalars(
            select(ToolType).where(ToolType.site_id == g.staff.site_id).order_by(ToolType.code)
        ).all()
        items = session.execute(
            select(Item, ToolType.name_zh, ToolType.name_en)
            .join(ToolType, ToolType.id == Item.tool_type_id)
            .where(Item.site_id == g.staff.site_id)
            .order_by(Item.asset_tag)
        ).all()
        return render_template(
            "staff/admin/tools.html",
            tool_types=types,
            retire_form=RetireForm(formdata=None),
            items=[(item, zh, en) for item, zh, en in items],
        )


@admin_required
def tool_type(tool_type_id: int | None = None) -> ResponseReturnValue:
    data: dict[str, Any] = {"loan_days": 3}
    if tool_type_id is not None:
        with database().read() as session:
            found = session.get(ToolType, tool_type_id)
            if found is None or found.site_id != g.staff.site_id:
                raise NotFound("no such tool type", tool_type_id=tool_type_id)
            data = {
                name: getattr(found, name)
                for name in (
                    "code",
                    "name_zh",
                    "name_en",
                    "loan_days",
                    "description_zh",
                    "description_en",
                    "safety_note_zh",
                    "safety_note_en",
                )
            }
    form = ToolTypeForm(data=data)
    if form.validate_on_submit() and _save(
        form,
        lambda session: centre_admin.save_tool_type(
            session,
            g.staff,
            tool_type_id,
            code=form.code.data or "",
            name_zh=form.name_zh.data or "",
            name_en=form.name_en.data or "",
            loan_days=form.loan_days.data,
            description_zh=form.description_zh.data or "",
            description_en=form.description_en.data or "",
            safety_note_zh=form.safety_note_zh.data or "",
            safety_note_en=form.safety_note_en.data or "",
            now=clock().now(),
        ),
    ):
        flash(_("Tool type saved."), "info")
        return redirect(url_for("staff.admin_tools"), 303)
    return _page("staff/admin/tool_type.html", form=form, tool_type_id=tool_type_id)


def _lockers(session: Session) -> dict[str, centre_admin.Locker]:
    found = session.scalars(
        select(Device)
        .where(Device.site_id == g.staff.site_id, Device.kind == DeviceKind.LOCKER)
        .order_by(Device.device_id)
    )
    lockers = {}
    for device in found:
        count = (device.capabilities or {}).get("compartments")
        lockers[device.device_id] = centre_admin.Locker(
            device.device_id, device.site_id, count if isinstance(count, int) else None
        )
    return lockers


@admin_required
def item(item_id: int | None = None) -> ResponseReturnValue:
    with database().read() as session:
        types = session.scalars(
            select(ToolType).where(ToolType.site_id == g.staff.site_id).order_by(ToolType.code)
        ).all()
        type_choices = [(t.id, f"{t.name_zh} · {t.name_en}") for t in types]
        lockers = _lockers(session)
        data: dict[str, Any] = {"status": "available", "locker": ""}
        lent = False
        if item_id is not None:
            found = session.get(Item, item_id)
            if found is None or found.site_id != g.staff.site_id:
                raise NotFound("no such item", item_id=item_id)
            data = {
                "asset_tag": found.asset_tag,
                "tool_type": found.tool_type_id,
                "locker": found.locker_device_id or "",
                "compartment": found.compartment,
                "status": found.status.value,
            }
            lent = found.status not in centre_admin.SETTABLE_ITEM_STATUSES
    form = ItemForm(data=data)
    form.tool_type.choices = type_choices
    form.locker.choices = [("", _("The counter"))] + [(d, d) for d in lockers]
    if lent:
        # The loan decides a lent item's status; show it, and accept it back unchanged.
        form.status.choices = [
            *ITEM_STATUS_CHOICES,
            SelectChoice(data["status"], _("Reserved or lent")),
        ]
    if form.validate_on_submit() and _save(
        form,
        lambda session: centre_admin.save_item(
            session,
            g.staff,
            item_id,
            tool_type_id=form.tool_type.data,
            asset_tag=form.asset_tag.data or "",
            locker=lockers.get(form.locker.data) if form.locker.data else None,
            compartment=form.compartment.data,
            status=ItemStatus(form.status.data),
            now=clock().now(),
        ),
    ):
        flash(_("Item saved."), "info")
        return redirect(url_for("staff.admin_tools"), 303)
    return _page("staff/admin/item.html", form=form, item_id=item_id)


# --- devices ------------------------------------------------------------------------------------


@admin_required
def devices() -> ResponseReturnValue:
    form = DeviceForm()
    registered: dict[str, str] | None = None
    if form.validate_on_submit():
        try:
            with database().write() as session:
                device, password = provisioning.register_device(
                    session,
                    g.staff.site_id,
                    form.device_id.data or "",
                    form.kind.data or "",
                    form.name.data or "",
                    clock().now(),
                )
                site = session.get_one(Site, g.staff.site_id)
                audit.record_staff(
                    session,
                    g.staff,
                    action="admin.device_registered",
                    now=clock().now(),
                    subject=f"device:{device.device_id}",
                    detail={"kind": device.kind.value, "name": device.name},
                )
                # Shown on this response only: never flashed (the session cookie would keep it).
                registered = {
                    "device_id": device.device_id,
                    "site": site.slug,
                    "password": password,
                }
        except (InvalidInput, Conflict) as error:
            _show_error(form, error)
        else:
            form = DeviceForm(formdata=None)
    with database().read() as session:
        rows = [
            {"device_id": d.device_id, "kind": d.kind.value, "name": d.name, "online": d.online}
            for d in session.scalars(
                select(Device).where(Device.site_id == g.staff.site_id).order_by(Device.device_id)
            )
        ]
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "staff/admin/devices.html", form=form, devices=rows, registered=registered
    ), status


def _page(template: str, **context: Any) -> ResponseReturnValue:
    """A form page: 400 when a submitted form was refused, so clients can tell."""
    forms = [value for value in context.values() if isinstance(value, FlaskForm)]
    refused = any(form.is_submitted() and (form.errors or form.form_errors) for form in forms)
    return render_template(template, **context), 400 if refused else 200
