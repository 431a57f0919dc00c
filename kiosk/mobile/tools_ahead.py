"""Reserving a tool from the phone: the tools kept in lockers, a day and a window for one,
a place in its queue when none is free, and cancelling either (listed under "my tools").

The kiosk's own choices, rules and words (:mod:`kiosk.touch.lending.reserving`): a window
reserved here is held at the lockers as one reserved at the kiosk. Borrowing itself happens
at the centre, so the phone never offers "borrow now". A refusal shows the page again with
the reason in the resident's words and the choices kept; nothing is changed.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from booking.core.errors import DomainError
from booking.lending import catalogue as lending_catalogue
from kiosk.extensions import clock, database
from kiosk.mobile import loans as phone_loans
from kiosk.mobile import session as phone_session
from kiosk.mobile.session import PhoneResident
from kiosk.mobile.signed_in import resident_required
from kiosk.touch.forms import ReserveToolForm
from kiosk.touch.lending import pages as kiosk_tools
from kiosk.touch.lending import reserving
from kiosk.touch.spaces import words as booking_words


def _tools_page(
    resident: PhoneResident, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    site = phone_session.current_site()
    with database().read() as session:
        tools, lockers_down = kiosk_tools.offered_tools(
            session, site_id=site.id, site_slug=site.slug, resident_id=resident.id,
            now=clock().now(),
        )  # fmt: skip
    return render_template(
        "mobile/tools_ahead.html",
        tools=[tool for tool in tools if tool.reservable],
        lockers_down=lockers_down, error=error, words=booking_words,
    ), status  # fmt: skip


@resident_required
def tool_list(resident: PhoneResident) -> ResponseReturnValue:
    """The tools that can be reserved: those kept in the lockers."""
    return _tools_page(resident)


def _form_page(
    tool_type_id: int, form: ReserveToolForm, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    site = phone_session.current_site()
    with database().read() as session:
        try:
            tool_type = lending_catalogue.get_tool_type(
                session, site_id=site.id, tool_type_id=tool_type_id
            )
        except DomainError:
            abort(404)  # another centre's tool, or none: as a page that is not there
        name = booking_words.in_language(tool_type.name_zh, tool_type.name_en)
    days = reserving.days(clock().now(), site.timezone)
    offered = {day.value for day in days}
    # What was chosen stays chosen after a refusal; anything not offered falls back to the first.
    day = form.text("day") if form.text("day") in offered else days[0].value
    window = form.text("window") if form.text("window") in reserving.WINDOWS else "morning"
    return render_template(
        "mobile/tools_reserve.html", tool_name=name, tool_type_id=tool_type_id, days=days,
        windows=reserving.WINDOWS, chosen_day=day, chosen_window=window, error=error,
    ), status  # fmt: skip


@resident_required
def reserve_form(resident: PhoneResident, tool_type_id: int) -> ResponseReturnValue:
    return _form_page(tool_type_id, ReserveToolForm.read())


@resident_required
def reserve(resident: PhoneResident, tool_type_id: int) -> ResponseReturnValue:
    site = phone_session.current_site()
    form = ReserveToolForm.read()
    outcome = reserving.reserve(
        site_id=site.id, timezone=site.timezone, resident_id=resident.id,
        tool_type_id=tool_type_id, form=form, now=clock().now(),
    )  # fmt: skip
    if not outcome.done:
        return _form_page(tool_type_id, form, outcome.words, outcome.status)
    # To the top of "my tools", not an anchor: on a small screen the confirmation is the news.
    flash(outcome.words, "success")
    return redirect(url_for("mobile.my_loans"))


@resident_required
def join_queue(resident: PhoneResident, tool_type_id: int) -> ResponseReturnValue:
    site = phone_session.current_site()
    outcome = reserving.join_queue(site_id=site.id, timezone=site.timezone,
                                   resident_id=resident.id, tool_type_id=tool_type_id,
                                   now=clock().now())  # fmt: skip
    if not outcome.done:
        return _tools_page(resident, outcome.words, outcome.status)
    flash(outcome.words, "success")
    return redirect(url_for("mobile.my_loans"))


@resident_required
def cancel(resident: PhoneResident, reservation_id: int) -> ResponseReturnValue:
    site = phone_session.current_site()
    outcome = reserving.cancel(site_id=site.id, timezone=site.timezone, resident_id=resident.id,
                               reservation_id=reservation_id, now=clock().now())  # fmt: skip
    if not outcome.done:
        return phone_loans.loans_page(resident, outcome.words, outcome.status)
    flash(outcome.words, "success")
    return redirect(url_for("mobile.my_loans"))
