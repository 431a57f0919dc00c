"""The overdue reminder a resident sees at their next kiosk sign-in."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import flash
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from booking.lending import eligibility as lending_eligibility
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from kiosk.extensions import clock, database

OVERDUE_REMINDER = _l(
    "Please return %(tool)s: it was due back on %(date)s. Other neighbours are waiting for it."
)


def remind_overdue(resident_id: int, site_id: int, timezone: str) -> None:
    """A notice for each overdue tool not yet mentioned since it became overdue (once each:
    the my-tools page keeps showing it as overdue after that)."""
    zh = str(get_locale() or "").startswith("zh")
    with database().write() as session:
        loans = lending_eligibility.loans_to_remind(
            session, site_id=site_id, resident_id=resident_id
        )
        for loan in loans:
            tool_type = session.get_one(ToolType, session.get_one(Item, loan.item_id).tool_type_id)
            due = loan.due_at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d")
            name = tool_type.name_zh if zh else tool_type.name_en
            flash(str(OVERDUE_REMINDER) % {"tool": name, "date": due}, "error")
        lending_eligibility.mark_reminded(session, loans, clock().now())
