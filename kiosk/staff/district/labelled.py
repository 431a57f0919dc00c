"""The district overview's figures as pictures and tables, in the staff member's language.

The figures come from :mod:`booking.insights.district` (and the devices' from
:mod:`devices.fleet.district`); the pictures are drawn by :mod:`kiosk.staff.insights.charts`.
Every picture has its numbers written beside it, and every table is also a CSV.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from booking.insights.district import Centre, CentreToday, Trend, WeeklyTrends
from devices.fleet.district import DeviceCount
from kiosk.staff.csv_export import Cell
from kiosk.staff.insights import charts
from kiosk.staff.insights.labelled import Table

CALM = charts.PALETTE[0]  # blue: use, things in order
LATE = charts.PALETTE[5]  # vermilion: overdue, urgent, offline (always with words beside)
METER_WIDTH = 110


def centre_name(centre: Centre) -> str:
    return centre.name_en if str(get_locale()) == "en" else centre.name_zh


# --- today ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One cell of today's table: a number, its picture, and a line that explains it."""

    text: str
    meter: Markup
    detail: str = ""
    needs_attention: bool = False


@dataclass(frozen=True)
class CentreRow:
    centre: Centre
    name: str
    day: date
    seats: Figure
    rooms: Figure
    loans: Figure
    alerts: Figure
    devices: Figure
    follow_ups: Figure


@dataclass(frozen=True)
class Totals:
    """The whole district at once, for the tiles above the table."""

    seats_in_use: int
    seats: int
    room_bookings: int
    loans_out: int
    loans_overdue: int
    alerts_open: int
    alerts_urgent: int
    devices_offline: int
    devices: int
    follow_ups: int


def totals(rows: Sequence[CentreToday], devices: dict[int, DeviceCount]) -> Totals:
    return Totals(
        seats_in_use=sum(r.seats_in_use for r in rows),
        seats=sum(r.seats for r in rows),
        room_bookings=sum(r.room_bookings for r in rows),
        loans_out=sum(r.loans_out for r in rows),
        loans_overdue=sum(r.loans_overdue for r in rows),
        alerts_open=sum(r.alerts_open for r in rows),
        alerts_urgent=sum(r.alerts_urgent for r in rows),
        devices_offline=sum(d.offline for d in devices.values()),
        devices=sum(d.devices for d in devices.values()),
        follow_ups=sum(r.bp_follow_ups for r in rows),
    )


def today_rows(rows: Sequence[CentreToday], devices: dict[int, DeviceCount]) -> list[CentreRow]:
    """One row per centre. Seats, rooms and devices are drawn against the centre's own
    number of them; loans, alerts and follow-ups against the busiest centre's, so the bars
    compare centres."""
    most_loans = max((r.loans_out for r in rows), default=0)
    most_alerts = max((r.alerts_open for r in rows), default=0)
    most_follow_ups = max((r.bp_follow_ups for r in rows), default=0)
    found = []
    for r in rows:
        kit = devices.get(r.centre.id, DeviceCount(0, 0))
        found.append(
            CentreRow(
                centre=r.centre,
                name=centre_name(r.centre),
                day=r.day,
                seats=Figure(
                    f"{r.seats_in_use} / {r.seats}",
                    charts.meter([(r.seats_in_use, CALM)], scale=r.seats, width=METER_WIDTH),
                    _(
                        "Checked in today: %(used)d of %(booked)d",
                        used=r.seat_bookings_used,
                        booked=r.seat_bookings,
                    ),
                ),
                rooms=Figure(
                    f"{r.rooms_booked} / {r.rooms}",
                    charts.meter([(r.rooms_booked, CALM)], scale=r.rooms, width=METER_WIDTH),
                    _("Bookings today: %(count)d", count=r.room_bookings),
                ),
                loans=Figure(
                    str(r.loans_out),
                    charts.meter(
                        [(r.loans_out - r.loans_overdue, CALM), (r.loans_overdue, LATE)],
                        scale=most_loans,
                        width=METER_WIDTH,
                    ),
                    _("Overdue: %(count)d", count=r.loans_overdue),
                    needs_attention=r.loans_overdue > 0,
                ),
                alerts=Figure(
                    str(r.alerts_open),
                    charts.meter(
                        [(r.alerts_urgent, LATE), (r.alerts_open - r.alerts_urgent, CALM)],
                        scale=most_alerts,
                        width=METER_WIDTH,
                    ),
                    _("Urgent: %(count)d", count=r.alerts_urgent),
                    needs_attention=r.alerts_urgent > 0,
                ),
                devices=Figure(
                    f"{kit.offline} / {kit.devices}",
                    charts.meter([(kit.offline, LATE)], scale=kit.devices, width=METER_WIDTH),
                    _("offline") if kit.devices else _("no devices"),
                    needs_attention=kit.offline > 0,
                ),
                follow_ups=Figure(
                    str(r.bp_follow_ups),
                    charts.meter(
                        [(r.bp_follow_ups, CALM)], scale=most_follow_ups, width=METER_WIDTH
                    ),
                    _("waiting for a visit") if r.bp_follow_ups else "",
                ),
            )
        )
    return found


def today_table(rows: Sequence[CentreToday], devices: dict[int, DeviceCount]) -> Table:
    """Today's figures, one line per centre: the CSV of the table on the page."""
    header = [
        _("Centre code"),
        _("Centre"),
        _("Local date"),
        _("Number of study seats"),
        _("Seats in use now"),
        _("Seat bookings today"),
        _("Seat bookings checked in"),
        _("Number of activity rooms"),
        _("Rooms booked today"),
        _("Room bookings today"),
        _("Loans out"),
        _("Loans overdue"),
        _("Open alerts"),
        _("Urgent alerts"),
        _("Devices"),
        _("Devices offline"),
        _("Blood-pressure follow-ups waiting"),
    ]
    lines: list[list[Cell]] = []
    for r in rows:
        kit = devices.get(r.centre.id, DeviceCount(0, 0))
        lines.append(
            [
                r.centre.slug, centre_name(r.centre), r.day.isoformat(), r.seats, r.seats_in_use,
                r.seat_bookings, r.seat_bookings_used, r.rooms, r.rooms_booked, r.room_bookings,
                r.loans_out, r.loans_overdue, r.alerts_open, r.alerts_urgent, kit.devices,
                kit.offline, r.bp_follow_ups,
            ]
        )  # fmt: skip
    return Table(header, lines)


# --- weekly trends -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendWords:
    title: object  # lazy strings: worded in the viewer's language when shown
    explanation: object
    counted: object  # the CSV's column of counts


TREND_WORDS: dict[Trend, TrendWords] = {
    Trend.SEATS: TrendWords(
        _l("Study-seat bookings used per week"),
        _l("Seat bookings the resident checked in to, by the week they started."),
        _l("Seat bookings used"),
    ),
    Trend.ROOMS: TrendWords(
        _l("Activity-room bookings per week"),
        _l(
            "Approved bookings, used or not, including staff classes; cancelled, refused and "
            "undecided requests are left out."
        ),
        _l("Room bookings"),
    ),
    Trend.LOANS: TrendWords(
        _l("Tool loans per week"),
        _l("Loans that started in the week, at the counter or from a locker."),
        _l("Loans"),
    ),
    Trend.ALERTS: TrendWords(
        _l("Staff alerts raised per week"),
        _l("Alerts of every kind: lockers, devices, overdue tools and health."),
        _l("Alerts"),
    ),
    Trend.BP_FOLLOW_UPS: TrendWords(
        _l("Blood-pressure follow-ups per week"),
        _l(
            "Follow-up visits asked for residents living alone who measured high on several "
            "days. No reading values are shown here."
        ),
        _l("Follow-ups"),
    ),
}


@dataclass(frozen=True)
class Panel:
    """One centre's small chart within a trend."""

    centre: Centre
    name: str
    svg: Markup
    values: list[int]  # a count per week, oldest first

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass(frozen=True)
class TrendChart:
    slug: str
    weeks: list[date]
    title: str
    explanation: str
    panels: list[Panel]
    table: Table
    empty: bool


def _week_label(monday: date) -> str:
    return monday.strftime("%m-%d")


def trend_chart(trends: WeeklyTrends, trend: Trend) -> TrendChart:
    """A trend as small multiples, one chart per centre on one shared scale."""
    words = TREND_WORDS[trend]
    title = str(words.title)
    highest = trends.highest(trend)
    panels = []
    for centre in trends.centres:
        name = centre_name(centre)
        values = trends.series(trend, centre.id)
        svg = charts.small_bars(
            chart_id=f"trend-{trend.value}-{centre.slug}",
            title=f"{name}: {title}",
            description=_(
                "%(total)d in %(weeks)d weeks; this week %(latest)d.",
                total=sum(values),
                weeks=len(values),
                latest=values[-1] if values else 0,
            ),
            values=values,
            maximum=highest,
            first_label=_week_label(trends.weeks[0]) if trends.weeks else "",
            last_label=_week_label(trends.weeks[-1]) if trends.weeks else "",
            bar_titles=[
                _("Week of %(day)s: %(count)d", day=week.isoformat(), count=n)
                for week, n in zip(trends.weeks, values, strict=True)
            ],
        )
        panels.append(Panel(centre, name, svg, values))
    return TrendChart(
        slug=trend.value,
        weeks=trends.weeks,
        title=title,
        explanation=str(words.explanation),
        panels=panels,
        table=trend_table(trends, trend),
        empty=highest == 0,
    )


def trend_table(trends: WeeklyTrends, trend: Trend) -> Table:
    """A trend's numbers, one line per week and centre: its CSV."""
    rows: list[list[Cell]] = [
        [week.isoformat(), centre.slug, centre_name(centre), trends.count(trend, centre.id, week)]
        for week in trends.weeks
        for centre in trends.centres
    ]
    header = [_("Week starting"), _("Centre code"), _("Centre"), str(TREND_WORDS[trend].counted)]
    return Table(header, rows)
