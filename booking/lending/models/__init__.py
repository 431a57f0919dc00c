"""Tables of lending, one per module: tool types and items, loans, their events, policies and
suspensions, door sessions, mismatches between a locker and the records. Importing any of
them imports them all, so a relationship between two always finds its other side."""

from booking.lending.models import (  # noqa: F401
    door_sessions,
    events,
    loans,
    mismatches,
    policies,
    reservations,
    suspensions,
    tool_types,
    tools,
)
