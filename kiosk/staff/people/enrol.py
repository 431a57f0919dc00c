"""Enrolling a resident in the console: the form, the possible duplicates shown before
anything is saved (staff confirm "a different person" or open the one already there), the
paper health consent if signed, and the slip with the resident's one-time code."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import BooleanField, IntegerField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from booking.core import audit
from booking.core.errors import Conflict, InvalidInput
from booking.core.models.sites import Site
from booking.health import consent as health_consent
from booking.people import enrolment, one_time_codes
from booking.people.enrolment import EnrolmentDetails, PossibleDuplicate
from booking.people.models.resident_codes import CodePurpose
from kiosk.extensions import clock, database
from kiosk.staff.people.code_slip import slip_page
from kiosk.staff.session import console_site_id

YEAR_HELP = _l("Enter the year of birth as 4 digits, e.g. 1948.")


def _text(label: LazyString, most: int, *, required: LazyString | None = None) -> StringField:
    first = InputRequired(required) if required is not None else Optional()
    return StringField(
        label,
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[first, Length(max=most, message=_l("At most %(max)d characters.", max=most))],
    )


class ResidentDetailsForm(FlaskForm):  # type: ignore[misc]
    """A resident's details as the desk types them: enrolling, and correcting them later."""

    name = _text(_l("Name"), enrolment.NAME_MAX, required=_l("Enter the resident's name."))
    phone = _text(_l("Mobile phone"), 20, required=_l("Enter the resident's mobile phone."))
    # Optional when details are corrected: residents enrolled from a roster may have none,
    # and the desk could not fix such a resident's phone without making a year up.
    birth_year = IntegerField(
        _l("Year of birth"),
        invalid_value_message=YEAR_HELP,
        validators=[Optional(), NumberRange(min=1000, max=9999, message=YEAR_HELP)],
    )  # fmt: skip
    building = _text(_l("Building"), enrolment.BUILDING_MAX)
    unit = _text(_l("Unit"), enrolment.UNIT_MAX)
    room = _text(_l("Room number"), enrolment.ROOM_MAX)
    lives_alone = BooleanField(_l("Lives alone"))
    emergency_contact_name = _text(_l("Emergency contact's name"), enrolment.NAME_MAX)
    emergency_contact_phone = _text(_l("Emergency contact's phone"), 20)
    preferred_language = RadioField(
        _l("Preferred language"),
        choices=[
            SelectChoice(value="zh_CN", label="中文"),
            SelectChoice(value="en", label="English"),
        ],
        default="zh_CN",
        # Judged by the service, which answers in the desk's words (WTForms' would be English).
        validate_choice=False,
    )

    def details(self) -> EnrolmentDetails:
        return EnrolmentDetails(
            name=self.name.data or "",
            phone=self.phone.data or "",
            birth_year=self.birth_year.data,
            building=self.building.data or "",
            unit=self.unit.data or "",
            room=self.room.data or "",
            lives_alone=bool(self.lives_alone.data),
            emergency_contact_name=self.emergency_contact_name.data or "",
            emergency_contact_phone=self.emergency_contact_phone.data or "",
            preferred_language=self.preferred_language.data or "zh_CN",
        )


class EnrolForm(ResidentDetailsForm):
    # Asked of every resident enrolled at the desk (docs/operations.md, the first day).
    birth_year = IntegerField(
        _l("Year of birth"),
        invalid_value_message=YEAR_HELP,
        validators=[InputRequired(_l("Enter the year of birth.")),
                    NumberRange(min=1000, max=9999, message=YEAR_HELP)],
    )  # fmt: skip
    health_consent = BooleanField(
        _l(
            "The resident signed the paper health-data consent form today (notice version "
            "%(version)s).",
            version=health_consent.NOTICE_VERSION,
        )
    )
    confirmed_different = BooleanField(
        _l("I checked the residents listed above: this is a different person.")
    )


# What the service's reasons mean in the desk's words, by field and reason.
PROBLEMS: dict[tuple[str, str], LazyString] = {
    ("name", enrolment.REQUIRED): _l("Enter the resident's name."),
    ("name", enrolment.TOO_LONG): _l("A name is at most 60 characters."),
    ("phone", enrolment.REQUIRED): _l("Enter the resident's mobile phone."),
    ("phone", enrolment.PATTERN): _l("A mobile phone has 11 digits and starts with 1."),
    ("birth_year", enrolment.OUT_OF_RANGE): _l(
        "The year of birth must be between %(first)d and this year."
    ),
    ("emergency_contact_phone", enrolment.PATTERN): _l(
        "An emergency phone has 7 to 20 digits (a landline with its area code is fine)."
    ),
    ("emergency_contact_phone", enrolment.INCOMPLETE): _l(
        "Give the emergency contact's phone as well, or leave both empty."
    ),
    ("preferred_language", enrolment.UNKNOWN): _l("Choose 中文 or English."),
    ("emergency_contact_name", enrolment.INCOMPLETE): _l(
        "Give the emergency contact's name as well, or leave both empty."
    ),
}
CHECK_FIELD = _l("Check this field.")
ALREADY_MEMBER = _l("A resident with this phone is already a member of this centre.")
PHONE_ELSEWHERE = _l(
    "This phone belongs to a resident of another centre under another name. Check the phone "
    "number with the resident; one phone is one person at every centre."
)
CONFIRM = _l(
    "Residents with this name are already members. Open one if it is the same person, or "
    "tick the box below to enrol someone different."
)
MATCH_WORDS = {
    enrolment.MatchKind.SAME_PHONE: _l("same phone"),
    enrolment.MatchKind.PHONE_ELSEWHERE: _l("same phone, at another centre"),
    enrolment.MatchKind.SAME_NAME_AND_BUILDING: _l("same name and building"),
    enrolment.MatchKind.SAME_NAME: _l("same name"),
}


def _page(
    form: EnrolForm,
    *,
    status: int = 200,
    matches: list[PossibleDuplicate] | None = None,
    message: str | None = None,
) -> ResponseReturnValue:
    matches = matches or []
    # The "a different person" box only where confirming can let the enrolment through.
    confirming = bool(matches) and not any(m.blocks for m in matches)
    return render_template(
        "staff/enrol.html", form=form, matches=matches, message=message,
        match_words=MATCH_WORDS, confirming=confirming,
    ), status  # fmt: skip


def show_problems(form: ResidentDetailsForm, refused: InvalidInput) -> None:
    """The service's reasons on the form's fields, in the desk's words."""
    problems = refused.details.get("problems")
    if not isinstance(problems, dict):
        form.form_errors.append(str(CHECK_FIELD))
        return
    for field, reason in problems.items():
        words = PROBLEMS.get((field, reason), CHECK_FIELD)
        text = str(words) % {"first": clock().now().year - enrolment.OLDEST_AGE}
        form[field].errors = [*form[field].errors, text]


def enrol() -> ResponseReturnValue:
    form = EnrolForm()
    if not form.is_submitted():
        return _page(form)
    if not form.validate():
        return _page(form, status=400)
    now = clock().now()
    try:
        with database().write() as session:
            done = enrolment.enrol_resident(
                session, site_id=console_site_id(), details=form.details(), now=now,
                actor=audit.staff_actor(g.staff), staff_id=g.staff.id,
                confirmed_different=bool(form.confirmed_different.data),
            )  # fmt: skip
            resident = done.resident
            if form.health_consent.data:
                today = now.astimezone(_site_zone(session)).date()
                _record_consent(session, resident.id, today)
            site = session.get(Site, console_site_id())
            assert site is not None
            if resident.has_pin:
                # Enrolled at another centre, with a PIN already: it works here too.
                flash(_("%(name)s was already enrolled at another centre and is now a member "
                        "here too. Their PIN works at this kiosk.", name=resident.name), "success")  # fmt: skip
                return redirect(url_for("staff.resident", resident_id=resident.id), code=303)
            issued = one_time_codes.issue_code(
                session, resident_id=resident.id, site_id=console_site_id(),
                purpose=CodePurpose.ENROL, now=now, actor=audit.staff_actor(g.staff),
                staff_id=g.staff.id,
            )  # fmt: skip
            return slip_page(site, resident, issued)
    except InvalidInput as refused:
        show_problems(form, refused)
        return _page(form, status=400)
    except enrolment.AlreadyMember:
        with database().read() as session:
            matches = enrolment.find_possible_duplicates(
                session, console_site_id(), form.name.data or "", form.phone.data or ""
            )
        form.phone.errors = [*form.phone.errors, str(ALREADY_MEMBER)]
        return _page(form, status=409, matches=matches, message=str(ALREADY_MEMBER))
    except enrolment.PhoneTakenElsewhere:
        form.phone.errors = [*form.phone.errors, str(PHONE_ELSEWHERE)]
        return _page(form, status=409, message=str(PHONE_ELSEWHERE))
    except enrolment.PossibleDuplicates as flagged:
        matches = list(flagged.details.get("matches") or [])  # type: ignore[call-overload]
        return _page(form, status=409, matches=matches, message=str(CONFIRM))


def _site_zone(session: Session) -> ZoneInfo:
    site = session.get(Site, console_site_id())
    return ZoneInfo(site.timezone if site is not None else "Asia/Shanghai")


def _record_consent(session: Session, resident_id: int, today: date) -> None:
    try:
        health_consent.record_paper_consent(
            session, g.staff, resident_id=resident_id, signed_on=today, now=clock().now()
        )
    except Conflict:
        # A person of another centre who consented there: that consent stands.
        pass
