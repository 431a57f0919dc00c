"""Tables of spaces, one per module: spaces, seats, space rules, bookings, series, closures,
waitlist, strikes and suspensions. Importing any of them imports them all, so a relationship
between two (a space's seats) always finds its other side registered."""

from booking.spaces.models import (  # noqa: F401
    bookings,
    closures,
    seats,
    series,
    series_exceptions,
    space_rules,
    spaces,
    strikes,
    suspensions,
    waitlist,
)
