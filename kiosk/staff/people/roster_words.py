"""What the roster pages say about a file that cannot be read and about each rejected row,
in the reader's language (booking.people.roster gives only stable codes)."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from booking.people.roster import checking, reading
from booking.people.roster.reading import RosterFileError, RowProblem

FIELD_LABELS: dict[str, LazyString] = {
    "name": _l("Name"),
    "phone": _l("Phone"),
    "birth_year": _l("Year of birth"),
    "building": _l("Building"),
    "unit": _l("Unit"),
    "room": _l("Room number"),
    "lives_alone": _l("Lives alone"),
    "emergency_contact_name": _l("Emergency contact"),
    "emergency_contact_phone": _l("Emergency contact's phone"),
    "preferred_language": _l("Preferred language"),
}

# (field, code) first, then code alone; %(field)s is the column's label, %(row)d a row.
_ROW_REASONS: dict[tuple[str, str] | str, LazyString] = {
    ("phone", "pattern"): _l("%(field)s is not an 11-digit mainland mobile number."),
    ("emergency_contact_phone", "pattern"): _l("%(field)s is not a phone number."),
    ("birth_year", "not_a_value"): _l("%(field)s is not a year (write it like 1950)."),
    ("lives_alone", "not_a_value"): _l("%(field)s must be 是 or 否."),
    ("preferred_language", "not_a_value"): _l("%(field)s must be 中文 or English."),
    "required": _l("%(field)s is missing."),
    "too_long": _l("%(field)s is too long."),
    "pattern": _l("%(field)s is not in the expected form."),
    "out_of_range": _l("%(field)s is not a plausible year of birth."),
    "incomplete": _l("%(field)s is missing: an emergency contact needs a name and a phone."),
    "unknown": _l("%(field)s is not one the kiosk offers."),
    "not_a_value": _l("%(field)s is not understood."),
    reading.FORMULA: _l("%(field)s is a formula or an error: save the sheet with values only."),
    reading.SCIENTIFIC_NUMBER: _l(
        "%(field)s was saved by Excel as a rounded number (like 1.38E+10): format the column "
        "as text and save the file again."
    ),
    checking.DUPLICATE_IN_FILE: _l("The same phone and name as row %(row)d."),
    checking.PHONE_REUSED_IN_FILE: _l("The same phone as row %(row)d, under another name."),
    checking.SAME_PERSON_IN_FILE: _l(
        "The same name and address as row %(row)d, with another phone."
    ),
    checking.ALREADY_MEMBER: _l("This phone is already a resident of this centre."),
    checking.PHONE_TAKEN_ELSEWHERE: _l("This phone belongs to another person at another centre."),
    checking.SAME_PERSON_HERE: _l("A resident with this name already lives at this address."),
}


def row_reason(problem: RowProblem) -> str:
    """One reason a row is rejected, as a sentence."""
    message = _ROW_REASONS.get((problem.field, problem.code)) or _ROW_REASONS.get(problem.code)
    field = str(FIELD_LABELS.get(problem.field, problem.field))
    if message is None:
        return str(_("%(field)s: %(code)s", field=field, code=problem.code))
    return str(message) % {"field": field, "row": problem.other_row or 0}


def file_error(error: RosterFileError) -> str:
    """Why a file cannot be read as a roster, and what to do about it."""
    return str(_file_error(error))


def _file_error(error: RosterFileError) -> object:
    reason, details = error.details.get("reason"), error.details
    if reason == reading.EMPTY:
        return _("The file is empty.")
    if reason == reading.TOO_BIG:
        return _("The file is too big: at most %(mb)d MB.", mb=reading.MAX_FILE_BYTES // 2**20)
    if reason == reading.OLD_EXCEL:
        # Excel saves a password-protected workbook in the same old container as an .xls.
        return _(
            "This is an old Excel file (.xls) or one locked with a password: open it in Excel "
            "and save it as .xlsx, without a password."
        )
    if reason == reading.BAD_XLSX:
        return _("The Excel file is damaged and cannot be read.")
    if reason == reading.BAD_CSV:
        return _("The CSV file cannot be read (near line %(row)s).", row=details.get("row"))
    if reason == reading.ENCODING:
        return _("The text of the file is neither UTF-8 nor GBK: save it as CSV UTF-8.")
    if reason == reading.TOO_MANY_ROWS:
        return _("The roster has more than %(limit)d rows: split it into several files.",
                 limit=reading.MAX_ROWS)  # fmt: skip
    if reason == reading.TOO_MANY_COLUMNS:
        return _("The sheet has more than %(limit)d columns.", limit=reading.MAX_COLUMNS)
    if reason == reading.NO_HEADER:
        return _(
            "No header row with the columns 姓名 and 手机号 (or Name and Phone) was found in "
            "the first %(rows)d rows of the first sheet.", rows=reading.HEADER_SEARCH_ROWS,
        )  # fmt: skip
    if reason == reading.DUPLICATE_COLUMN:
        return _("Two columns mean %(column)s: keep one of them.", column=details.get("column"))
    return _("This is not a CSV or Excel (.xlsx) file.")
