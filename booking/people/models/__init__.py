"""Tables of people, one per module: residents and their memberships, staff accounts, sign-in
sessions, failed sign-ins and API tokens. Importing any of them imports them all, so a
relationship between two always finds its other side."""

from booking.people.models import (  # noqa: F401
    api_tokens,
    calendar_feeds,
    card_binds,
    memberships,
    resident_codes,
    resident_sessions,
    residents,
    sign_in_failures,
    staff,
    staff_sessions,
    staff_site_access,
)
