"""The resident's blood-pressure readings on the phone: read-only, and only while their
consent is in force. Without it nothing is read, not even how many readings there are."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import render_template
from flask.typing import ResponseReturnValue

from booking.health import operations as health
from kiosk import health_chart, health_words
from kiosk.extensions import database
from kiosk.mobile import session as phone_session
from kiosk.mobile.session import PhoneResident
from kiosk.mobile.signed_in import resident_required


@resident_required
def history(resident: PhoneResident) -> ResponseReturnValue:
    timezone = phone_session.current_site().timezone
    with database().read() as session:
        if health.consent_in_force(session, resident.id) is None:
            return render_template("mobile/health.html", consent=False)
        readings = health.recent_readings(session, resident.id)
        return render_template(
            "mobile/health.html", consent=True, readings=readings,
            chart=health_chart.trend_chart(
                readings, timezone, width=health_chart.PHONE_WIDTH,
                height=health_chart.PHONE_HEIGHT,
            ), words=health_words,
            timezone=ZoneInfo(timezone),
        )  # fmt: skip
