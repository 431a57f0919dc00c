"""Correcting an enrolled resident's details at the desk (a new phone, a move within the
community, an emergency contact), with the enrolment form's fields and words."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from booking.core import audit
from booking.core.errors import InvalidInput
from booking.people import resident_details
from booking.people import residents as resident_service
from booking.people.account_errors import AccountStateWrong
from kiosk.extensions import clock, database
from kiosk.staff.people.enrol import ResidentDetailsForm, show_problems
from kiosk.staff.session import console_site_id

PHONE_IN_USE = _l("Another resident signs in with this mobile phone (here or at another centre).")
DEACTIVATED = _l("This account is deactivated: reactivate it before changing its details.")


def _page(
    form: ResidentDetailsForm, resident_id: int, name: str, *, status: int = 200,
    message: str | None = None,
) -> ResponseReturnValue:  # fmt: skip
    return render_template(
        "staff/resident_details.html", form=form, resident_id=resident_id,
        resident_name=name, message=message,
    ), status  # fmt: skip


def details(resident_id: int) -> ResponseReturnValue:
    with database().read() as session:
        # Another centre's resident answers 404, like one who does not exist.
        member = resident_service.get_member(
            session, site_id=console_site_id(), resident_id=resident_id
        )
        name = member.name
        current = resident_details.current_details(member)
    form = ResidentDetailsForm(data=current.__dict__)
    if not form.is_submitted():
        return _page(form, resident_id, name)
    if not form.validate():
        return _page(form, resident_id, name, status=400)
    try:
        with database().write() as session:
            changed = resident_details.update_details(
                session, site_id=console_site_id(), resident_id=resident_id,
                details=form.details(), now=clock().now(), actor=audit.staff_actor(g.staff),
                staff_id=g.staff.id,
            )  # fmt: skip
    except InvalidInput as refused:
        show_problems(form, refused)
        return _page(form, resident_id, name, status=400)
    except resident_details.PhoneInUse:
        form.phone.errors = [*form.phone.errors, str(PHONE_IN_USE)]
        return _page(form, resident_id, name, status=409)
    except AccountStateWrong:
        return _page(form, resident_id, name, status=409, message=str(DEACTIVATED))
    flash(_("Details saved.") if changed else _("Nothing was changed."), "info")
    return redirect(url_for("staff.resident", resident_id=resident_id), code=303)
