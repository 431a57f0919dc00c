"""Date fields for the console's and kiosk's forms that take only this century.

WTForms' date fields read year 1 and year 9999 as well as any other; moving such a date to
the centre's timezone or a day's start overflowed (a 500) before any rule could refuse it.
Here the field itself refuses it, with the other errors of its form, in the reader's words.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DateTimeLocalField
from wtforms.validators import ValidationError

FIRST_YEAR, LAST_YEAR = 2000, 2099
OUT_OF_RANGE = _l("Give a date from 2000 to 2099.")


def in_this_century(day: date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


class CenturyDateField(DateField):  # type: ignore[misc]
    data: Any  # a date once read; as loosely typed as WTForms, for the views that read it

    def pre_validate(self, form: Any) -> None:
        if self.data is not None and not in_this_century(self.data):
            self.data = None
            raise ValidationError(str(OUT_OF_RANGE))


class CenturyDateTimeLocalField(DateTimeLocalField):  # type: ignore[misc]
    data: Any  # a datetime once read

    def pre_validate(self, form: Any) -> None:
        if self.data is not None and not in_this_century(self.data):
            self.data = None
            raise ValidationError(str(OUT_OF_RANGE))
