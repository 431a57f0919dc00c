"""Administration of spaces and their seats: add, edit, retire and restore (admins only)."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.admin import centre as centre_admin
from booking.admin import space_rules as space_rules_admin
from booking.core.errors import NotFound
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind
from kiosk.extensions import clock, database
from kiosk.staff.admin import saving
from kiosk.staff.admin.forms import (
    NewSeatForm,
    NewSpaceForm,
    RetireForm,
    SeatForm,
    SeatRowsForm,
    SpaceForm,
    SpaceRulesForm,
)
from kiosk.staff.auth import admin_required
from kiosk.staff.session import console_site_id


@admin_required
def spaces() -> ResponseReturnValue:
    with database().read() as session:
        found = session.scalars(
            select(Space)
            .where(Space.site_id == console_site_id())
            .order_by(Space.kind, Space.code)
            # The seats counted below: one read for every room, not one a room.
            .options(selectinload(Space.seats))
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
    if form.validate_on_submit() and saving.save(
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
    return saving.page("staff/admin/new_space.html", form=form)


@admin_required
def retire_space(space_id: int) -> ResponseReturnValue:
    return saving.retire(
        lambda session: centre_admin.retire_space(session, g.staff, space_id, now=clock().now()),
        "staff.admin_space",
        space_id=space_id,
    )


@admin_required
def restore_space(space_id: int) -> ResponseReturnValue:
    return saving.restore(
        lambda session: centre_admin.restore_space(session, g.staff, space_id, now=clock().now()),
        "staff.admin_space",
        space_id=space_id,
    )


def _space_data(space_id: int) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    with database().read() as session:
        space = session.get(Space, space_id)
        if space is None or space.site_id != console_site_id():
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
        if saving.save(
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
    seat_rows: SeatRowsForm | None = None,
    rules_form: SpaceRulesForm | None = None,
) -> ResponseReturnValue:
    if seats is None or kind is None or data is None:
        data, seats, kind = _space_data(space_id)
    if rules_form is None:
        with database().read() as session:
            own = space_rules_admin.own_rules(session, g.staff, space_id)
        rules_form = SpaceRulesForm(formdata=None, data=own)
    next_number = max((seat["number"] for seat in seats), default=0) + 1
    return saving.page(
        "staff/admin/space.html",
        space_id=space_id,
        space_name=data["name_zh"],
        form=form or SpaceForm(formdata=None, data=data),
        new_seat=new_seat or NewSeatForm(formdata=None, data={"map_row": 0, "map_col": 0}),
        seat_form=seat_form or SeatForm(formdata=None),
        seat_rows=seat_rows
        or SeatRowsForm(
            formdata=None, data={"first": next_number, "last": next_number + 23, "per_row": 6}
        ),
        rules_form=rules_form,
        rule_defaults=space_rules_admin.defaults_for(SpaceKind(kind)),
        retire_form=RetireForm(formdata=None),
        retired=data["retired"],
        failed_seat=failed_seat,
        seats=seats,
        kind=kind,
    )


@admin_required
def add_seat(space_id: int) -> ResponseReturnValue:
    form = NewSeatForm()
    if form.validate_on_submit() and saving.save(
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
        if found is None or found.space.site_id != console_site_id():
            raise NotFound("no such seat", seat_id=seat_id)
        space_id = found.space_id
    form = SeatForm()
    if form.validate_on_submit() and saving.save(
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


@admin_required
def add_seat_rows(space_id: int) -> ResponseReturnValue:
    form = SeatRowsForm()
    if form.validate_on_submit() and saving.save(
        form,
        lambda session: centre_admin.add_seat_rows(
            session,
            g.staff,
            space_id,
            first=form.first.data,
            last=form.last.data,
            per_row=form.per_row.data,
            now=clock().now(),
        ),
    ):
        flash(_("Seats added."), "info")
        return redirect(url_for("staff.admin_space", space_id=space_id), 303)
    return _space_page(space_id, seat_rows=form)


@admin_required
def space_rules(space_id: int) -> ResponseReturnValue:
    form = SpaceRulesForm()
    if form.validate_on_submit() and saving.save(
        form,
        lambda session: space_rules_admin.set_space_rules(
            session,
            g.staff,
            space_id,
            {name: form[name].data for name in space_rules_admin.BOUNDS},
            now=clock().now(),
        ),
    ):
        flash(_("Booking rules saved."), "info")
        return redirect(url_for("staff.admin_space", space_id=space_id), 303)
    return _space_page(space_id, rules_form=form)
