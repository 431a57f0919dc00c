"""An admin looks after the centre's staff accounts in the console (booking.people.colleagues):
adds a colleague, sets a forgotten password, disables a leaver and lets them back."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from booking.core.errors import Conflict, InvalidInput, NotPermitted
from booking.people import colleagues
from booking.people.models.staff import StaffAccount
from kiosk.extensions import clock, database
from kiosk.staff.auth import admin_required
from kiosk.staff.people.accounts import accounts_page
from kiosk.staff.people.colleague_forms import (
    ColleagueForm,
    ColleaguePasswordForm,
    ColleagueSwitchForm,
)
from kiosk.staff.session import console_site_id

TAKEN = _l("That username is taken. Choose another.")
# The form checks the shapes first; the service's own refusal is the last word.
NOT_SAVED = _l("Not saved: check the username and the password.")
REFUSED = {
    "own": _l("Your own account is changed by another admin, or on the password page."),
    "district": _l("A district admin's account is looked after by the district."),
    "not_admin": _l("Only the centre's administrators look after its accounts."),
}


@admin_required
def add() -> ResponseReturnValue:
    form = ColleagueForm()
    if not form.validate_on_submit():
        return accounts_page(add_form=form, status=400)
    try:
        with database().write() as session:
            added = colleagues.add_colleague(
                session, by=g.staff, username=form.username.data or "",
                display_name=form.display_name.data or "", password=form.password.data or "",
                as_admin=bool(form.as_admin.data), now=clock().now(),
            )  # fmt: skip
            name, username = added.display_name, added.username
    except Conflict:
        form.username.errors = [*form.username.errors, str(TAKEN)]
        return accounts_page(add_form=form, status=409)
    except InvalidInput:
        form.form_errors.append(str(NOT_SAVED))
        return accounts_page(add_form=form, status=400)
    flash(_("%(name)s can sign in now as %(username)s. Give them the first password in "
            "person; they change it on the password page.", name=name, username=username),
          "success")  # fmt: skip
    return redirect(url_for("staff.accounts"), 303)


def _colleague_name(staff_id: int) -> str:
    """For the password form: a colleague at home here (the service checks again on saving)."""
    with database().read() as session:
        account = session.get(StaffAccount, staff_id)
        if account is None or account.site_id != console_site_id():
            abort(404)
        return account.display_name


@admin_required
def password(staff_id: int) -> ResponseReturnValue:
    form = ColleaguePasswordForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template(
            "staff/colleague_password.html", form=form, name=_colleague_name(staff_id),
            staff_id=staff_id,
        ), status  # fmt: skip
    try:
        with database().write() as session:
            name = colleagues.set_password(
                session, by=g.staff, staff_id=staff_id, password=form.password.data or "",
                now=clock().now(),
            ).display_name  # fmt: skip
    except NotPermitted as refused:
        flash(str(REFUSED[str(refused.details.get("reason"))]), "error")
        return redirect(url_for("staff.accounts"), 303)
    flash(_("%(name)s's password is set, and they are signed out everywhere. Tell them the "
            "new one in person.", name=name), "success")  # fmt: skip
    return redirect(url_for("staff.accounts"), 303)


@admin_required
def switch(staff_id: int, active: bool) -> ResponseReturnValue:
    if not ColleagueSwitchForm().validate_on_submit():
        flash(_("This page was open too long. Please try again."), "error")
        return redirect(url_for("staff.accounts"), 303)
    try:
        with database().write() as session:
            name = colleagues.set_active(
                session, by=g.staff, staff_id=staff_id, active=active, now=clock().now()
            ).display_name
    except NotPermitted as refused:
        flash(str(REFUSED[str(refused.details.get("reason"))]), "error")
        return redirect(url_for("staff.accounts"), 303)
    if active:
        flash(_("%(name)s can sign in again.", name=name), "success")
    else:
        flash(_("%(name)s can no longer sign in, and was signed out everywhere.", name=name),
              "success")  # fmt: skip
    return redirect(url_for("staff.accounts"), 303)


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/accounts/add", "account_add", add, methods=["POST"])
    bp.add_url_rule("/accounts/<id:staff_id>/password", "account_password", password,
                    methods=["GET", "POST"])  # fmt: skip
    bp.add_url_rule("/accounts/<id:staff_id>/disable", "account_disable",
                    lambda staff_id: switch(staff_id, False), methods=["POST"])  # fmt: skip
    bp.add_url_rule("/accounts/<id:staff_id>/enable", "account_enable",
                    lambda staff_id: switch(staff_id, True), methods=["POST"])  # fmt: skip
