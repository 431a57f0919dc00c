"""The console's lending pages: the records with filters and CSV, the overdue list, one
item's and one resident's history, and the counter. What staff do at the counter (lend,
take back, open a compartment) is in ``counter``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    Response,
    abort,
    render_template,
    request,
    stream_with_context,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from booking.core.db import MAX_ID
from booking.core.errors import InvalidInput
from booking.core.models.sites import Site
from booking.core.sites import local_time
from booking.lending import lookups as lending_lookups
from booking.lending import records as lending_records
from booking.lending.models.loans import LoanStatus
from booking.lending.models.tool_types import ToolType
from booking.lending.records import LoanFilter, LoanRow
from booking.people import residents as resident_service
from kiosk.extensions import clock, database
from kiosk.staff.csv_export import Cell, csv_lines
from kiosk.staff.forms import query_text
from kiosk.staff.lending import words as lending_words
from kiosk.staff.lending.ahead import ActionForm
from kiosk.staff.lending.forms import (
    CounterLendForm,
    CounterReturnForm,
    MaintenanceOpenForm,
    RecordsFilterForm,
)
from kiosk.staff.session import console_site_id

# --- reading ----------------------------------------------------------------------------------


def _filter_form(session: Session) -> RecordsFilterForm:
    form = RecordsFilterForm(request.args)
    # Three columns, not the tool types as ORM objects: loading those was a sixth of the page.
    form.tool_type.choices = [("", _("Any tool"))] + [
        (str(tool_id), f"{name_zh} {name_en}")
        for tool_id, name_zh, name_en in lending_lookups.tool_type_names(
            session, site_id=console_site_id()
        )
    ]
    form.status.choices = [("", _("Any status"))] + [
        (status.value, str(label)) for status, label in lending_words.LOAN_STATUS.items()
    ]
    return form


def _loan_filter(session: Session, form: RecordsFilterForm) -> LoanFilter:
    started_from = started_before = None
    if form.date_from.data or form.date_to.data:
        # The centre's timezone is needed only for dates: no query for the site otherwise.
        started_from, started_before = lending_records.local_day_bounds(
            session.get_one(Site, console_site_id()), form.date_from.data, form.date_to.data
        )
    return LoanFilter(
        resident=form.resident.data or "",
        tool_type_id=int(form.tool_type.data) if form.tool_type.data else None,
        asset_tag=form.item.data or "",
        status=LoanStatus(form.status.data) if form.status.data else None,
        started_from=started_from,
        started_before=started_before,
        overdue_only=bool(form.overdue.data),
    )


def _cursor(form: RecordsFilterForm) -> int | None:
    raw = (form.before.data or "").strip()
    if not raw:
        return None
    # ASCII digits only ("²" is a digit to str.isdigit), and an id a table can hold.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:
        raise InvalidInput("bad page cursor", field="before")
    return int(raw)


def _filter_args(form: RecordsFilterForm) -> dict[str, str]:
    """The current filter as query arguments, for page and export links (no cursor)."""
    sent = query_text(form, (field.name for field in form if field.name != "before"))
    return {name: text for name, text in sent.items() if text}


def _drawn_from(form: RecordsFilterForm) -> tuple[object, ...]:
    """Everything the filter form's drawing reads besides the language: the tool types offered,
    what was sent and the messages. The page remembers the drawn form by it (WTForms' widgets
    were a sixth of the page's CPU, docs/benchmarks.md), so a renamed tool, a value typed or
    a refusal is drawn anew."""
    return (
        tuple(form.tool_type.choices),
        tuple(sorted(request.args.items(multi=True))),
        repr(form.errors),
        tuple(str(error) for error in form.form_errors),
    )


def records() -> ResponseReturnValue:
    # No transaction: the page and its count need not agree on one snapshot (a loan lent
    # between the two is on the next view), and a BEGIN and ROLLBACK were two of the page's
    # round trips to the server (docs/benchmarks.md).
    with database().read_statements() as session:
        form = _filter_form(session)
        now = clock().now()
        page = None
        status = 200
        if form.validate():
            try:
                page = lending_records.loan_page(
                    session,
                    site_id=console_site_id(),
                    where=_loan_filter(session, form),
                    now=now,
                    before=_cursor(form),
                )
            except InvalidInput:
                form.form_errors.append(_("That page no longer exists; start from the first page."))
                status = 400
        else:
            status = 400
        # A scanned or typed full asset tag also offers the item's own page.
        exact_item = (
            lending_lookups.item_by_tag(
                session, site_id=console_site_id(), asset_tag=form.item.data or ""
            )
            if page is not None
            else None
        )
        return render_template(
            "staff/lending.html",
            form=form,
            drawn_from=_drawn_from(form),
            page=page,
            exact_item=exact_item,
            now=now,
            filter_args=_filter_args(form),
            words=lending_words,
            renew_form=ActionForm(),
        ), status


def records_csv() -> ResponseReturnValue:
    with database().read() as session:
        form = _filter_form(session)
        if not form.validate():
            abort(400)
        where = _loan_filter(session, form)
        site = session.get_one(Site, console_site_id())
        session.expunge(site)
    now = clock().now()
    header = [
        _("Loan"), _("Borrowed"), _("Due"), _("Returned"), _("Status"), _("Late"),
        _("Channel"), _("Tool"), _("Asset tag"), _("Resident"), _("Phone"), _("Condition"),
    ]  # fmt: skip

    def when(moment: datetime | None) -> str:
        return local_time(site, moment).strftime("%Y-%m-%d %H:%M") if moment else ""

    def line(row: LoanRow) -> list[Cell]:
        return [
            row.loan_id, when(row.started_at), when(row.due_at), when(row.returned_at),
            str(lending_words.LOAN_STATUS[row.status]),
            _("yes") if row.is_late(now) else "",
            str(lending_words.CHANNEL[row.channel]), f"{row.tool_name_zh} {row.tool_name_en}",
            row.asset_tag, row.resident_name, row.resident_phone,
            str(lending_words.CONDITION.get(row.return_condition or "", "")),
        ]  # fmt: skip

    def body() -> Any:
        # A fresh read for the stream: the request's view has returned by the time it runs.
        with database().read() as stream_session:
            rows = lending_records.iter_loans(stream_session, site_id=site.id, where=where, now=now)
            yield from csv_lines(header, (line(row) for row in rows))

    filename = f"lending-records-{local_time(site, now):%Y%m%d-%H%M}.csv"
    return Response(
        stream_with_context(body()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


def overdue() -> ResponseReturnValue:
    with database().read() as session:
        now = clock().now()
        rows = lending_records.overdue_loans(session, site_id=console_site_id(), now=now)
        return render_template(
            "staff/lending_overdue.html", rows=rows, now=now, words=lending_words
        )


def item(
    item_id: int, *, forms: dict[str, Any] | None = None, status: int = 200
) -> ResponseReturnValue:
    with database().read() as session:
        found = lending_lookups.site_item(session, site_id=console_site_id(), item_id=item_id)
        now = clock().now()
        open_loan = lending_lookups.open_loan_of_item(
            session, site_id=console_site_id(), item_id=item_id
        )
        loans = lending_records.loan_page(
            session, site_id=console_site_id(), where=LoanFilter(item_id=item_id), now=now
        )
        forms = forms or {}
        history = lending_lookups.item_history(session, site_id=console_site_id(), item_id=item_id)
        return render_template(
            "staff/lending_item.html",
            item=found,
            tool=session.get_one(ToolType, found.tool_type_id),
            open_loan=(
                lending_records.loan_row(session, site_id=console_site_id(), loan_id=open_loan.id)
                if open_loan
                else None
            ),
            history=history,
            names=lending_lookups.resident_names(session, history),
            loans=loans,
            now=now,
            words=lending_words,
            lend_form=forms.get("lend") or CounterLendForm(),
            return_form=forms.get("return") or CounterReturnForm(),
            maintenance_form=forms.get("maintenance") or MaintenanceOpenForm(),
        ), status


def resident(resident_id: int) -> ResponseReturnValue:
    with database().read() as session:
        found = resident_service.get_member(
            session, site_id=console_site_id(), resident_id=resident_id
        )
        now = clock().now()
        form = RecordsFilterForm(request.args)
        try:
            before = _cursor(form)
            loans = lending_records.loan_page(
                session,
                site_id=console_site_id(),
                where=LoanFilter(resident_id=resident_id),
                now=now,
                before=before,
            )
        except InvalidInput:
            abort(400)
        return render_template(
            "staff/lending_resident.html",
            resident=found,
            loans=loans,
            history=lending_lookups.resident_history(
                session, site_id=console_site_id(), resident_id=resident_id
            ),
            now=now,
            words=lending_words,
            renew_form=ActionForm(),
        )


def counter() -> ResponseReturnValue:
    with database().read() as session:
        items = lending_lookups.counter_items(session, site_id=console_site_id())
        now = clock().now()
        loans = {
            i.id: lending_lookups.open_loan_of_item(
                session, site_id=console_site_id(), item_id=i.id
            )
            for i in items
        }
        rows = {
            item_id: lending_records.loan_row(session, site_id=console_site_id(), loan_id=loan.id)
            for item_id, loan in loans.items()
            if loan is not None
        }
        tools = {t.id: t for t in lending_lookups.tool_types(session, site_id=console_site_id())}
        return render_template(
            "staff/lending_counter.html",
            items=items,
            loans=rows,
            tools=tools,
            now=now,
            words=lending_words,
            lend_form=CounterLendForm(),
            return_form=CounterReturnForm(),
        )
