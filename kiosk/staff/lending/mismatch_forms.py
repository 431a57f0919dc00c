"""The form staff resolve a locker mismatch with: what it was, the tool's condition when it
is back, and the note the audit keeps (required)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from booking.lending.models.mismatches import MismatchResolution
from booking.lending.reconciliation import MAX_NOTE

# What each resolution means, said as staff would: the choice's own label.
RESOLUTION_CHOICES = {
    MismatchResolution.RETURNED: _l("The tool is back: end the loan as returned at the counter"),
    MismatchResolution.STILL_OUT: _l("Something else is in the compartment: the loan stays open"),
    MismatchResolution.FOUND: _l("Found: the tool is back in its compartment and can be lent"),
    MismatchResolution.LOST: _l("Really gone: mark the tool lost"),
}


class ResolveMismatchForm(FlaskForm):  # type: ignore[misc]
    """One per mismatch on the page (``prefix`` keeps their fields apart)."""

    resolution = RadioField(
        _l("What did you find?"),
        choices=[SelectChoice(r.value, label) for r, label in RESOLUTION_CHOICES.items()],
        validators=[InputRequired(_l("Choose what you found."))],
    )
    condition = SelectField(
        _l("Condition, if the tool is back"),
        choices=[
            SelectChoice("fine", _l("Fine")),
            SelectChoice("damaged", _l("Damaged")),
            SelectChoice("parts_missing", _l("Parts missing")),
        ],
        default="fine",
    )
    note = TextAreaField(
        _l("Note (required: what you checked and did)"),
        # Spaces alone say nothing: stripped first, then required.
        filters=[lambda text: text.strip() if isinstance(text, str) else text],
        validators=[
            DataRequired(_l("Say what you checked and did.")),
            Length(
                max=MAX_NOTE,
                message=_l("The note is at most %(max)d characters.", max=MAX_NOTE),
            ),
        ],
    )


def form_for(mismatch_id: int, resolutions: tuple[MismatchResolution, ...]) -> ResolveMismatchForm:
    """The form of one mismatch, offering only the resolutions of its kind (bound to the
    request's form data when it is a submission)."""
    form = ResolveMismatchForm(prefix=f"m{mismatch_id}")
    form.resolution.choices = [SelectChoice(r.value, RESOLUTION_CHOICES[r]) for r in resolutions]
    return form


class AskLockersForm(FlaskForm):  # type: ignore[misc]
    """A button: its CSRF token is its only field."""
