"""The loan table's rows as the console writes them, made in one pass for the whole table.

The records page's 50-row table made seven template calls a row (three moments, three links,
the lateness, a word): Jinja's call machinery cost more than the work it called, and the
table was a third of the page's CPU (cProfile, docs/benchmarks.md). Each row's text is made
here, with the once-a-table helpers of :mod:`kiosk.staff.table_formats`, and the template
(``staff/lending_macros.html``) only places it, escaping it as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType

from flask_babel import ngettext

from booking.lending.models.loans import LoanStatus
from booking.lending.records import LoanRow
from kiosk.staff.table_formats import IdUrls, local_minutes, plain_words


@dataclass(frozen=True, slots=True)
class LoanLine:
    loan_id: int
    status: str  # the status's value: the flag's class
    status_word: str
    started: str
    due: str
    returned: str
    late: str  # "3 days late", or "" for a loan not late
    renewable: bool
    renew_url: str
    tool: str
    asset_tag: str
    item_url: str
    resident_name: str
    resident_phone: str
    resident_url: str
    channel: str
    condition: str


def loan_lines(rows: Iterable[LoanRow], now: datetime, words: ModuleType) -> list[LoanLine]:
    """``rows`` as the table writes them, in the request's language and timezone; ``words``
    is :mod:`kiosk.staff.lending.words`."""
    minute = local_minutes()
    status_words = plain_words(words.LOAN_STATUS)
    channel_words = plain_words(words.CHANNEL)
    condition_words = plain_words(words.CONDITION)
    item_url = IdUrls("staff.lending_item", "item_id")
    resident_url = IdUrls("staff.lending_resident", "resident_id")
    renew_url = IdUrls("staff.lending_renew", "loan_id")
    lines = []
    for row in rows:
        late = ""
        if row.is_late(now):
            days = row.days_late(now)
            late = ngettext("%(num)d day late", "%(num)d days late", days)
        lines.append(
            LoanLine(
                loan_id=row.loan_id,
                status=row.status.value,
                status_word=status_words[row.status],
                started=minute(row.started_at),
                due=minute(row.due_at),
                returned=minute(row.returned_at),
                late=late,
                renewable=row.status is LoanStatus.ACTIVE,
                renew_url=renew_url(row.loan_id),
                tool=f"{row.tool_name_zh} {row.tool_name_en}",
                asset_tag=row.asset_tag,
                item_url=item_url(row.item_id),
                resident_name=row.resident_name,
                resident_phone=row.resident_phone,
                resident_url=resident_url(row.resident_id),
                channel=channel_words[row.channel],
                condition=condition_words.get(row.return_condition or "", ""),
            )
        )
    return lines
