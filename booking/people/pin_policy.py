"""Which PINs a resident may choose: six digits that a stranger would not try first.

Four digits, a run (123456, 654321), one digit or a short block repeated (111111, 121212,
123123), the PINs people choose most (the list below, from the published studies of leaked
and chosen PINs, with the birthday- and love-number favourites of mainland China), or the last
six digits of the resident's own phone: each is among the first guesses of anyone who
tries, and the throttle (booking.people.sign_in_guard) only slows guessing down. A PIN set
before this policy signs in as before, and is then changed on the spot
(``Resident.pin_change_required``).
"""

from __future__ import annotations

from booking.core.errors import InvalidInput

PIN_LENGTH = 6

COMMON_PINS = frozenset({
    "123456", "654321", "111111", "000000", "123123", "666666", "888888", "112233", "121212",
    "520520", "520521", "521521", "520131", "201314", "131420", "147258", "258369", "369258",
    "159753", "123321", "101010", "696969", "789456", "456789", "987654", "131313", "112358",
    "999999", "555555", "777777", "222222", "333333", "444444", "789789", "456456", "100200",
    "123654", "123789", "147369", "168168", "518518", "168888", "888666", "666888", "110110",
    "119119", "120120", "147852", "741852", "852456", "159357", "753951", "012345", "543210",
    "102030", "112211", "110120", "121314", "123457", "123465", "124578", "125689", "135790",
    "246810", "314159", "199001", "200000", "200101", "198000", "111222", "222333", "000111",
    "098765", "121121", "123000", "100000", "999888", "987456", "654123", "456123",
})  # fmt: skip

# Why a PIN is refused, in the order they are checked; the first that applies is named.
LENGTH, RUN, REPEAT, COMMON, PHONE = "length", "run", "repeat", "common", "phone"


def _is_run(pin: str) -> bool:
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:], strict=False)}
    return steps in ({1}, {9})


def _is_repeat(pin: str) -> bool:
    return any(pin == pin[:size] * (len(pin) // size) for size in (1, 2, 3))


def weakness(pin: str, *, phone: str) -> str | None:
    """Why ``pin`` may not be chosen (one of the codes above), or None if it may."""
    if len(pin) != PIN_LENGTH or not (pin.isascii() and pin.isdigit()):
        return LENGTH
    if _is_run(pin):
        return RUN
    if _is_repeat(pin):
        return REPEAT
    if pin in COMMON_PINS:
        return COMMON
    if phone and pin == phone[-PIN_LENGTH:]:
        return PHONE
    return None


def check_new_pin(pin: str, *, phone: str) -> None:
    """Refuse a PIN a resident may not choose, naming why (``rule``)."""
    rule = weakness(pin, phone=phone)
    if rule is not None:
        raise InvalidInput(f"choose another PIN ({rule})", field="pin", rule=rule)
