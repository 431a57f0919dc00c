"""Study seats at the kiosk: pick a room, a day and a time, and tap a seat on the map.
Booking it, queueing for it and sitting down now are in ``seat_actions``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.errors import InvalidInput, NotFound
from booking.core.models.sites import Site
from booking.spaces import availability
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind
from kiosk.extensions import clock, database
from kiosk.touch import session as kiosk_session
from kiosk.touch.forms import PeriodForm
from kiosk.touch.session import KioskResident
from kiosk.touch.signed_in import resident_required
from kiosk.touch.spaces import times as booking_times
from kiosk.touch.spaces import words as booking_words
from kiosk.touch.spaces.times import Choice
from kiosk.url_ids import id_from_text


@dataclass(frozen=True)
class SeatTile:
    id: int
    number: int
    row: int
    col: int
    power: bool
    window: bool
    quiet: bool
    free: bool
    mine: bool


@dataclass(frozen=True)
class RoomCard:
    """A study room as the room choice shows it."""

    id: int
    name_zh: str
    name_en: str
    seats: int
    free: int
    when: str  # the period ``free`` counts; "" when the room cannot be booked that day
    now: bool  # that period is already under way


def study_rooms(session: Session, site_id: int, *, with_seats: bool = False) -> list[Space]:
    """The site's study rooms in use, in the order they were set up."""
    return availability.spaces_in_use(
        session, site_id=site_id, kind=SpaceKind.STUDY, with_seats=with_seats
    )


def _study_room_here(session: Session, site_id: int, text: str) -> Space:
    """The study room a URL or form names; any other space is as good as missing."""
    space_id = id_from_text(text)
    if space_id is None:
        raise InvalidInput("no such study room", field="room")
    space = session.get(Space, space_id)
    if (
        space is None
        or space.site_id != site_id
        or space.kind is not SpaceKind.STUDY
        or space.retired_at is not None
    ):
        raise NotFound("no such study room", field="room")
    return space


def chosen_room(session: Session, site_id: int, values: dict[str, str]) -> Space | None:
    """The room the resident chose (``room`` in the URL), the only one, or None to ask.

    A centre without a study room has no seat pages at all (404).
    """
    if "room" in values:
        return _study_room_here(session, site_id, values["room"])
    rooms = study_rooms(session, site_id)
    if not rooms:
        abort(404)
    return rooms[0] if len(rooms) == 1 else None


def seat_here(session: Session, site_id: int, seat_id: int) -> Seat:
    """A seat of this kiosk's centre; any other is as good as missing."""
    seat = session.get(Seat, seat_id)
    if (
        seat is None
        or seat.space.site_id != site_id
        or seat.space.kind is not SpaceKind.STUDY
        or seat.space.retired_at is not None
    ):
        raise NotFound("no such seat")
    return seat


def _taken_seat_ids(
    session: Session, space_id: int, starts_at: datetime, ends_at: datetime
) -> set[int]:
    """The seats of the room held (by anyone) for part of the period, in one query."""
    return _taken_by_room(session, [space_id], starts_at, ends_at)[space_id]


def _taken_by_room(
    session: Session, space_ids: list[int], starts_at: datetime, ends_at: datetime
) -> dict[int, set[int]]:
    """:func:`_taken_seat_ids` of each of the rooms ``space_ids``, by room, in one query."""
    taken: dict[int, set[int]] = {space_id: set() for space_id in space_ids}
    rows = session.execute(
        select(Booking.space_id, Booking.seat_id).where(
            Booking.space_id.in_(space_ids),
            Booking.seat_id.is_not(None),
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.starts_at < ends_at,
            Booking.ends_at > starts_at,
        )
    )
    for space_id, seat_id in rows:
        if seat_id is not None:
            taken[space_id].add(seat_id)
    return taken


def _my_seat_ids(session: Session, resident: KioskResident | None, choice: Choice) -> set[int]:
    if resident is None or choice.starts_at is None or choice.ends_at is None:
        return set()
    return set(
        session.scalars(
            select(Booking.seat_id).where(
                Booking.resident_id == resident.id,
                Booking.seat_id.is_not(None),
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.starts_at < choice.ends_at,
                Booking.ends_at > choice.starts_at,
            )
        )
    )


def _choice(session: Session, site: Site, space: Space, values: dict[str, str]) -> Choice:
    return _choice_by(site, space, booking_rules.rules_for(session, space), values)


def _choice_by(
    site: Site, space: Space, rules: booking_rules.Rules, values: dict[str, str]
) -> Choice:
    return booking_times.choose(
        site,
        space,
        rules,
        clock().now(),
        day_text=values.get("day", ""),
        start_text=values.get("start", ""),
        minutes_text=values.get("minutes", ""),
        default_minutes=booking_times.DEFAULT_SEAT_MINUTES,
    )


def seat_map() -> ResponseReturnValue:
    """The seat map for the chosen period; open to anyone, booking needs a sign-in.

    A centre with several study rooms first asks which room (``room`` then rides along in
    every link and form of the seat pages).
    """
    return seat_map_page(PeriodForm.read().present())


def _room_cards(session: Session, site: Site, values: dict[str, str]) -> list[RoomCard]:
    """Every study room in use with its free seats in the asked (or first sensible) period.
    A few reads whatever the number of rooms: their seats, their rules, and what is taken in
    each period asked (one, unless the rooms' rules or hours differ)."""
    now = clock().now()
    rooms = study_rooms(session, site.id, with_seats=True)
    rules = booking_rules.rules_of(session, rooms)
    choices = {space.id: _choice_by(site, space, rules[space.id], values) for space in rooms}
    periods: dict[tuple[datetime, datetime], list[int]] = {}
    for space_id, choice in choices.items():
        if choice.starts_at is not None and choice.ends_at is not None:
            periods.setdefault((choice.starts_at, choice.ends_at), []).append(space_id)
    taken: dict[int, set[int]] = {}
    for (starts_at, ends_at), space_ids in periods.items():
        taken |= _taken_by_room(session, space_ids, starts_at, ends_at)
    cards = []
    for space in rooms:
        choice = choices[space.id]
        free, when = 0, ""
        if choice.starts_at is not None and choice.ends_at is not None:
            free = sum(1 for seat in space.seats if seat.id not in taken[space.id])
            when = booking_words.period_text(choice.starts_at, choice.ends_at, site.timezone)
        cards.append(
            RoomCard(
                id=space.id,
                name_zh=space.name_zh,
                name_en=space.name_en,
                seats=len(space.seats),
                free=free,
                when=when,
                now=choice.starts_at is not None and choice.starts_at <= now,
            )
        )
    return cards


def rooms_page(values: dict[str, str], error: str | None, status: int) -> ResponseReturnValue:
    """Which study room? One big button per room; the day and time asked so far are kept."""
    with database().read() as session:
        site = session.get_one(Site, kiosk_session.current_site().id)
        cards = _room_cards(session, site, values)
    kept = {key: values[key] for key in ("day", "start", "minutes") if values.get(key)}
    return render_template(
        "touch/seats_rooms.html", rooms=cards, kept=kept, error=error, words=booking_words
    ), status


def bad_room(values: dict[str, str]) -> ResponseReturnValue:
    """A room id that is not one of this centre's study rooms in use: say so, offer the rest."""
    return rooms_page(
        {key: value for key, value in values.items() if key != "room"},
        _("That study room cannot be booked here. Please choose one of the rooms below."),
        404,
    )


def _room_to_show(values: dict[str, str]) -> int | None:
    """The id of the room whose map to show; None to ask which (a bad id raises)."""
    with database().read() as session:
        space = chosen_room(session, kiosk_session.current_site().id, values)
        return space.id if space is not None else None


def seat_map_page(
    values: dict[str, str], error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    resident = kiosk_session.current_resident()
    try:
        room_id = _room_to_show(values)
    except (InvalidInput, NotFound):
        return bad_room(values)
    if room_id is None:
        return rooms_page(values, error, status)
    with database().read() as session:
        site = session.get_one(Site, kiosk_session.current_site().id)
        space = session.get_one(Space, room_id)
        choice = _choice(session, site, space, values)
        tiles: list[SeatTile] = []
        if choice.starts_at is not None and choice.ends_at is not None:
            mine = _my_seat_ids(session, resident, choice)
            taken = _taken_seat_ids(session, space.id, choice.starts_at, choice.ends_at)
            tiles = [
                SeatTile(
                    id=seat.id,
                    number=seat.number,
                    row=seat.map_row,
                    col=seat.map_col,
                    power=seat.has_power,
                    window=seat.by_window,
                    quiet=seat.quiet_zone,
                    free=seat.id not in taken,
                    mine=seat.id in mine,
                )
                for seat in space.seats
            ]
        room_name = booking_words.space_name(space)
        several_rooms = len(study_rooms(session, site.id)) > 1
        today = booking_rules.local_date(site, clock().now())
    return render_template(
        "touch/seats.html",
        room_name=room_name,
        room_id=room_id,
        several_rooms=several_rooms,
        choice=choice,
        today=today,
        tiles=tiles,
        free_count=sum(1 for tile in tiles if tile.free),
        error=error,
        words=booking_words,
    ), status


@resident_required
def seat_page(resident: KioskResident, seat_id: int) -> ResponseReturnValue:
    """One seat for the chosen period: book it if free, queue for it if taken."""
    return show_seat(resident, seat_id, PeriodForm.read().present())


def show_seat(
    resident: KioskResident,
    seat_id: int,
    values: dict[str, str],
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    site_info = kiosk_session.current_site()
    with database().read() as session:
        site = session.get_one(Site, site_info.id)
        try:
            seat = seat_here(session, site.id, seat_id)
        except NotFound:
            abort(404)
        space = seat.space
        choice = _choice(session, site, space, values)
        free = False
        if choice.starts_at is not None and choice.ends_at is not None:
            free = seat.id not in _taken_seat_ids(
                session, space.id, choice.starts_at, choice.ends_at
            )
        mine = seat.id in _my_seat_ids(session, resident, choice)
        tile = SeatTile(
            seat.id,
            seat.number,
            seat.map_row,
            seat.map_col,
            seat.has_power,
            seat.by_window,
            seat.quiet_zone,
            free,
            mine,
        )
        room_name = booking_words.space_name(space)
        room_id = space.id
        today = booking_rules.local_date(site, clock().now())
        when = (
            booking_words.period_text(choice.starts_at, choice.ends_at, site.timezone)
            if choice.starts_at is not None and choice.ends_at is not None
            else ""
        )
    return render_template(
        "touch/seats_seat.html",
        room_name=room_name,
        room_id=room_id,
        seat=tile,
        choice=choice,
        today=today,
        when=when,
        # The period under way: the resident standing here may simply sit down.
        sit_here=tile.free and choice.starts_at is not None and choice.starts_at <= clock().now(),
        error=error,
        words=booking_words,
    ), status
