"""Each insight as a chart with its table, labelled in the staff member's language.

The figures come from :mod:`booking.insights.figures`; :mod:`kiosk.staff.insights.charts`
draws them. A chart's table is also its CSV (``pages.insights_csv``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.orm import Session

from booking.insights import figures as insights
from booking.insights.local_time import DateRange
from kiosk.staff.csv_export import Cell
from kiosk.staff.insights import charts

WEEKDAYS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))


@dataclass(frozen=True)
class Table:
    header: Sequence[str]
    rows: Sequence[Sequence[Cell]]


@dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    explanation: str
    svg: Markup
    table: Table
    empty: bool


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f}%"


def _week_label(monday: date) -> str:
    return monday.strftime("%m-%d")


def _room_name(room: insights.Room) -> str:
    return room.name_en if str(get_locale()) == "en" else room.name_zh


# --- the charts ------------------------------------------------------------------------------


def occupancy_chart(data: insights.SeatOccupancy) -> Chart:
    hours = list(range(data.first_hour, data.last_hour + 1))
    rows: list[list[Cell]] = []
    for weekday in range(7):
        for hour in hours:
            cell = data.cell(weekday, hour)
            rows.append(
                [
                    str(WEEKDAYS[weekday]),
                    f"{hour:02d}:00",
                    round(cell.used_seconds / 3600, 2),
                    round(cell.capacity_seconds / 3600, 2),
                    round(cell.rate * 100, 1),
                ]
            )
    title = _("Study-seat occupancy by weekday and hour")
    svg = charts.heatmap(
        chart_id="chart-occupancy",
        title=title,
        description=_(
            "Share of the %(seats)d study seats in use, by weekday (rows) and hour of day "
            "(columns); darker is fuller, and every cell shows its percentage.",
            seats=data.seats,
        ),
        row_labels=[str(day) for day in WEEKDAYS],
        column_labels=[f"{hour}" for hour in hours],
        shares=[[data.cell(w, h).rate for h in hours] for w in range(7)],
        cell_texts=[[_percent(data.cell(w, h).rate) for h in hours] for w in range(7)],
        cell_titles=[
            [
                _(
                    "%(day)s %(hour)02d:00–%(next)02d:00: %(percent)s occupied",
                    day=WEEKDAYS[w],
                    hour=h,
                    next=h + 1,
                    percent=_percent(data.cell(w, h).rate),
                )
                for h in hours
            ]
            for w in range(7)
        ],
        x_label=_("Hour of day (local time)"),
        y_label=_("Weekday"),
        legend_label=_("Seats in use"),
    )
    return Chart(
        slug="occupancy",
        title=title,
        explanation=_(
            "Counts the time from a booking's start until it ended or the resident left, "
            "for bookings the resident checked in to; no-shows leave the seat empty."
        ),
        svg=svg,
        table=Table(
            [
                _("Weekday"),
                _("Hour"),
                _("Seat-hours used"),
                _("Seat-hours offered"),
                _("Occupancy %"),
            ],
            rows,
        ),
        empty=data.is_empty,
    )


def room_chart(data: insights.RoomBookings) -> Chart:
    title = _("Activity-room bookings per week")
    series = [
        charts.Series(_room_name(room), [data.count(week, room.id) for week in data.weeks])
        for room in data.rooms
    ]
    bar_titles = [
        _("Week of %(day)s: %(count)d bookings", day=week.isoformat(), count=data.week_total(week))
        + "".join(
            f"; {_room_name(room)} {data.count(week, room.id)}"
            for room in data.rooms
            if data.count(week, room.id)
        )
        for week in data.weeks
    ]
    svg = charts.bar_chart(
        chart_id="chart-rooms",
        title=title,
        description=_(
            "Bookings of each activity room per week, stacked by room; the number above a bar "
            "is the week's total."
        ),
        categories=[_week_label(week) for week in data.weeks],
        series=series,
        x_label=_("Week starting (Monday)"),
        y_label=_("Bookings"),
        bar_titles=bar_titles,
        totals=[[str(data.week_total(week))] for week in data.weeks],
        empty_text=_("No bookings in this range"),
    )
    rows: list[list[Cell]] = [
        [week.isoformat(), _room_name(room), data.count(week, room.id)]
        for week in data.weeks
        for room in data.rooms
    ]
    return Chart(
        slug="rooms",
        title=title,
        explanation=_(
            "Approved bookings, used or not, including staff classes; cancelled, refused and "
            "undecided requests are left out."
        ),
        svg=svg,
        table=Table([_("Week starting"), _("Room"), _("Bookings")], rows),
        empty=data.is_empty,
    )


def no_show_chart(weeks: Sequence[insights.NoShowWeek]) -> Chart:
    title = _("No-show rate of seat bookings per week")
    svg = charts.bar_chart(
        chart_id="chart-no-shows",
        title=title,
        description=_(
            "Share of seat bookings per week where the resident did not come; the label "
            "above each bar gives the rate and the counts."
        ),
        categories=[_week_label(w.week) for w in weeks],
        series=[charts.Series(_("No-show rate"), [(w.rate or 0) * 100 for w in weeks])],
        x_label=_("Week starting (Monday)"),
        y_label=_("No-shows (%)"),
        bar_titles=[
            _(
                "Week of %(day)s: %(missed)d of %(total)d bookings were no-shows",
                day=w.week.isoformat(),
                missed=w.no_shows,
                total=w.decided,
            )
            for w in weeks
        ],
        # The rate, and under it how many of how many, so a 50% of 1/2 is not mistaken.
        totals=[
            [_percent(w.rate), f"{w.no_shows}/{w.decided}"] if w.decided else ["–"] for w in weeks
        ],
        tick_format=lambda v: f"{v:.0f}%",
        empty_text=_("No seat bookings in this range"),
    )
    return Chart(
        slug="no-shows",
        title=title,
        explanation=_(
            "Of the seat bookings whose time has come (the resident checked in or was a "
            "no-show), how many were no-shows. Cancelled bookings are not counted."
        ),
        svg=svg,
        table=Table(
            [_("Week starting"), _("Seat bookings"), _("No-shows"), _("No-show rate %")],
            [
                [
                    w.week.isoformat(),
                    w.decided,
                    w.no_shows,
                    None if w.rate is None else round(w.rate * 100, 1),
                ]
                for w in weeks
            ],
        ),
        empty=not any(w.decided for w in weeks),
    )


def _tool_name(tool: insights.ToolLoans) -> str:
    return tool.name_en if str(get_locale()) == "en" else tool.name_zh


def loans_chart(tools: Sequence[insights.ToolLoans]) -> Chart:
    title = _("Loans per tool type, and how many went overdue")
    svg = charts.bar_chart(
        chart_id="chart-loans",
        title=title,
        description=_(
            "Loans that started in the range for each tool type, split into those returned "
            "in time (or still within their time) and those that went overdue; above each "
            "bar the number of loans and the overdue rate."
        ),
        categories=[_tool_name(t) for t in tools],
        series=[
            charts.Series(_("In time"), [t.loans - t.overdue for t in tools]),
            charts.Series(_("Went overdue"), [t.overdue for t in tools]),
        ],
        x_label=_("Tool type"),
        y_label=_("Loans"),
        bar_titles=[
            _(
                "%(tool)s: %(loans)d loans, %(overdue)d overdue",
                tool=_tool_name(t),
                loans=t.loans,
                overdue=t.overdue,
            )
            for t in tools
        ],
        totals=[
            [str(t.loans), _("%(percent)s overdue", percent=_percent(t.overdue_rate))]
            if t.loans
            else ["0"]
            for t in tools
        ],
        empty_text=_("No loans in this range"),
    )
    return Chart(
        slug="loans",
        title=title,
        explanation=_(
            "A loan counts as overdue once it was past its due date, whether it has come "
            "back since or not."
        ),
        svg=svg,
        table=Table(
            [_("Tool type"), _("Loans"), _("Went overdue"), _("Overdue rate %")],
            [
                [
                    _tool_name(t),
                    t.loans,
                    t.overdue,
                    None if t.overdue_rate is None else round(t.overdue_rate * 100, 1),
                ]
                for t in tools
            ],
        ),
        empty=not any(t.loans for t in tools),
    )


def bp_alerts_chart(weeks: Sequence[insights.AlertWeek]) -> Chart:
    title = _("Blood-pressure alerts per week")
    svg = charts.bar_chart(
        chart_id="chart-bp-alerts",
        title=title,
        description=_(
            "Staff alerts raised by blood-pressure readings each week: urgent readings, and "
            "follow-up visits for residents living alone who measured high on several days."
        ),
        categories=[_week_label(w.week) for w in weeks],
        series=[
            charts.Series(_("Urgent"), [w.urgent for w in weeks]),
            charts.Series(_("Follow-up visit"), [w.follow_up for w in weeks]),
        ],
        x_label=_("Week starting (Monday)"),
        y_label=_("Alerts"),
        bar_titles=[
            _(
                "Week of %(day)s: %(urgent)d urgent, %(follow_up)d follow-up",
                day=w.week.isoformat(),
                urgent=w.urgent,
                follow_up=w.follow_up,
            )
            for w in weeks
        ],
        totals=[[str(w.total)] for w in weeks],
        empty_text=_("No blood-pressure alerts in this range"),
    )
    return Chart(
        slug="bp-alerts",
        title=title,
        explanation=_(
            "Counts alerts, not readings: a second urgent reading while the first alert is "
            "still open is the same alert. No reading values are shown here."
        ),
        svg=svg,
        table=Table(
            [_("Week starting"), _("Urgent"), _("Follow-up visit"), _("Alerts")],
            [[w.week.isoformat(), w.urgent, w.follow_up, w.total] for w in weeks],
        ),
        empty=not any(w.total for w in weeks),
    )


CHARTS: dict[str, Callable[[Session, int, DateRange], Chart]] = {
    "occupancy": lambda s, site, within: occupancy_chart(
        insights.seat_occupancy(s, site_id=site, within=within)
    ),
    "rooms": lambda s, site, within: room_chart(
        insights.room_bookings_per_week(s, site_id=site, within=within)
    ),
    "no-shows": lambda s, site, within: no_show_chart(
        insights.no_show_rate_per_week(s, site_id=site, within=within)
    ),
    "loans": lambda s, site, within: loans_chart(
        insights.loans_per_tool_type(s, site_id=site, within=within)
    ),
    "bp-alerts": lambda s, site, within: bp_alerts_chart(
        insights.bp_alerts_per_week(s, site_id=site, within=within)
    ),
}
