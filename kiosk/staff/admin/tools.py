"""Administration of tool types and items: add, edit, retire and restore (admins only)."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from booking.admin import tools as tools_admin
from booking.core.errors import NotFound
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item, ItemStatus
from devices.models.device import Device, DeviceKind
from kiosk.extensions import clock, database
from kiosk.staff.admin import saving
from kiosk.staff.admin.forms import (
    ITEM_STATUS_CHOICES,
    ItemForm,
    RetireForm,
    ToolTypeForm,
)
from kiosk.staff.auth import admin_required
from kiosk.staff.lending import words as lending_words
from kiosk.staff.session import console_site_id


@admin_required
def tools() -> ResponseReturnValue:
    with database().read() as session:
        types = session.scalars(
            select(ToolType).where(ToolType.site_id == console_site_id()).order_by(ToolType.code)
        ).all()
        items = session.execute(
            select(Item, ToolType.name_zh, ToolType.name_en)
            .join(ToolType, ToolType.id == Item.tool_type_id)
            .where(Item.site_id == console_site_id())
            .order_by(Item.asset_tag)
        ).all()
        return render_template(
            "staff/admin/tools.html",
            tool_types=types,
            retire_form=RetireForm(formdata=None),
            items=[(item, zh, en) for item, zh, en in items],
            item_status=lending_words.ITEM_STATUS,
        )


@admin_required
def tool_type(tool_type_id: int | None = None) -> ResponseReturnValue:
    data: dict[str, Any] = {"loan_days": 3}
    if tool_type_id is not None:
        with database().read() as session:
            found = session.get(ToolType, tool_type_id)
            if found is None or found.site_id != console_site_id():
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
    if form.validate_on_submit() and saving.save(
        form,
        lambda session: tools_admin.save_tool_type(
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
    return saving.page("staff/admin/tool_type.html", form=form, tool_type_id=tool_type_id)


def _lockers(session: Session) -> dict[str, tools_admin.Locker]:
    found = session.scalars(
        select(Device)
        .where(Device.site_id == console_site_id(), Device.kind == DeviceKind.LOCKER)
        .order_by(Device.device_id)
    )
    lockers = {}
    for device in found:
        count = (device.capabilities or {}).get("compartments")
        lockers[device.device_id] = tools_admin.Locker(
            device.device_id, device.site_id, count if isinstance(count, int) else None
        )
    return lockers


@admin_required
def item(item_id: int | None = None) -> ResponseReturnValue:
    with database().read() as session:
        types = session.scalars(
            select(ToolType).where(ToolType.site_id == console_site_id()).order_by(ToolType.code)
        ).all()
        type_choices = [(t.id, f"{t.name_zh} · {t.name_en}") for t in types]
        lockers = _lockers(session)
        data: dict[str, Any] = {"status": "available", "locker": ""}
        lent = False
        if item_id is not None:
            found = session.get(Item, item_id)
            if found is None or found.site_id != console_site_id():
                raise NotFound("no such item", item_id=item_id)
            data = {
                "asset_tag": found.asset_tag,
                "tool_type": found.tool_type_id,
                "locker": found.locker_device_id or "",
                "compartment": found.compartment,
                "status": found.status.value,
            }
            lent = found.status not in tools_admin.SETTABLE_ITEM_STATUSES
    form = ItemForm(data=data)
    form.tool_type.choices = type_choices
    form.locker.choices = [("", _("The counter"))] + [(d, d) for d in lockers]
    if lent:
        # The loan decides a lent item's status; show it, and accept it back unchanged.
        form.status.choices = [
            *ITEM_STATUS_CHOICES,
            SelectChoice(data["status"], _("Reserved or lent")),
        ]
    if form.validate_on_submit() and saving.save(
        form,
        lambda session: tools_admin.save_item(
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
    return saving.page("staff/admin/item.html", form=form, item_id=item_id)


@admin_required
def retire_tool_type(tool_type_id: int) -> ResponseReturnValue:
    return saving.retire(
        lambda session: tools_admin.retire_tool_type(
            session, g.staff, tool_type_id, now=clock().now()
        ),
        "staff.admin_tools",
    )


@admin_required
def restore_tool_type(tool_type_id: int) -> ResponseReturnValue:
    return saving.restore(
        lambda session: tools_admin.restore_tool_type(
            session, g.staff, tool_type_id, now=clock().now()
        ),
        "staff.admin_tools",
    )
