"""The printed slip that carries a one-time code to the resident: the code in large digits,
how to use it at the kiosk in Chinese and then English (whatever language the console
shows), and until when it works, on the centre's clock.

The slip is the answer to the POST that made the code, rendered from the code in memory:
the code is stored nowhere in clear, so it shows this once, and a lost slip means a new
code (which voids this one)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from booking.core.models.sites import Site
from booking.people.models.resident_codes import CodePurpose
from booking.people.models.residents import Resident
from booking.people.one_time_codes import IssuedCode

# The slip's languages, in the order printed: Chinese first, for everyone.
SLIP_LOCALES = ("zh_CN", "en")

HEADINGS: dict[CodePurpose, LazyString] = {
    CodePurpose.ENROL: _l("Welcome! Choose your kiosk PIN"),
    CodePurpose.PIN_RESET: _l("Choose a new kiosk PIN"),
}
STEPS = (
    _l("At the kiosk, tap “Sign in”, then “First time or forgot your PIN? I have a code”."),
    _l("Type your mobile phone number and the 8-digit code on this slip."),
    _l("Choose a 6-digit PIN and type it twice. Keep it to yourself: staff never ask for it."),
)
VALID_UNTIL = _l("This code works once, until %(time)s.")
WHEN_LOST = _l("If it has run out or the slip is lost, ask the staff for a new one.")


@dataclass(frozen=True)
class SlipText:
    lang: str
    heading: str
    steps: list[str]
    valid_until: str
    when_lost: str


def slip_texts(purpose: CodePurpose, expires_text: str) -> list[SlipText]:
    texts = []
    for locale in SLIP_LOCALES:
        with force_locale(locale):
            texts.append(
                SlipText(
                    lang=locale.replace("_", "-"),
                    heading=str(HEADINGS[purpose]),
                    steps=[str(step) for step in STEPS],
                    valid_until=str(VALID_UNTIL) % {"time": expires_text},
                    when_lost=str(WHEN_LOST),
                )
            )
    return texts


def slip_page(site: Site, resident: Resident, issued: IssuedCode) -> ResponseReturnValue:
    """The slip for ``issued``; never cached (the console's pages are all no-store)."""
    expires = issued.expires_at.astimezone(ZoneInfo(site.timezone))
    expires_text = f"{expires:%Y-%m-%d %H:%M}"
    return render_template(
        "staff/code_slip.html",
        site=site,
        resident=resident,
        # The slip leaves the desk: the name half hidden, the phone by its last four digits.
        shown_name=resident.masked_name,
        phone_tail=resident.phone[-4:],
        code=issued.spaced,
        expires_text=expires_text,
        texts=slip_texts(issued.purpose, expires_text),
        purpose=issued.purpose.value,
    )
