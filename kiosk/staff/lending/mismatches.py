"""The console's locker checks: every place where a locker's full state and the lending
records disagree, resolved one by one with a required note, and the history of past ones."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from booking.core.errors import DomainError
from booking.lending import mismatch_list, mismatch_resolve
from booking.lending.errors import MismatchAlreadyResolved
from booking.lending.models.mismatches import LendingMismatch
from booking.lending.models.tools import Item
from devices.locker import reconciliation as locker_reconciliation
from devices.models.device import Device
from kiosk.extensions import clock, database
from kiosk.staff.lending import mismatch_words
from kiosk.staff.lending import words as lending_words
from kiosk.staff.lending.mismatch_forms import AskLockersForm, ResolveMismatchForm, form_for
from kiosk.staff.session import console_site_id


def mismatches(
    *, failed: ResolveMismatchForm | None = None, failed_id: int | None = None, status: int = 200
) -> ResponseReturnValue:
    site_id = console_site_id()
    with database().read() as session:
        open_rows = mismatch_list.open_mismatches(session, site_id=site_id)
        settled = mismatch_list.settled_mismatches(session, site_id=site_id)
        lockers = {
            device_id: name or device_id
            for device_id, name in session.execute(
                select(Device.device_id, Device.name).where(Device.site_id == site_id)
            )
        }
    forms = {
        row.id: failed
        if failed is not None and row.id == failed_id
        else form_for(row.id, row.resolutions)
        for row in open_rows
    }
    return render_template(
        "staff/lending_mismatches.html",
        open_rows=open_rows,
        settled=settled,
        forms=forms,
        ask_form=AskLockersForm(),
        lockers=lockers,
        words=lending_words,
        mwords=mismatch_words,
        now=clock().now(),
    ), status


def resolve(mismatch_id: int) -> ResponseReturnValue:
    with database().read() as session:
        found = session.get(LendingMismatch, mismatch_id)
        if found is None or found.site_id != console_site_id():
            abort(404)
        resolutions = found.resolutions
        tag = session.get_one(Item, found.item_id).asset_tag
    form = form_for(mismatch_id, resolutions)
    if not form.validate_on_submit():
        flash(_("Nothing was changed: choose what you found and say what you did."), "error")
        return mismatches(failed=form, failed_id=mismatch_id, status=400)
    try:
        with database().write() as session:
            resolved = mismatch_resolve.resolve(
                session,
                staff=g.staff,
                mismatch_id=mismatch_id,
                resolution=form.resolution.data or "",
                note=form.note.data or "",
                now=clock().now(),
                condition=form.condition.data or None,
            )
            outcome = resolved.resolution
    except MismatchAlreadyResolved as error:
        flash(str(mismatch_words.refusal(error.code)), "info")
        return redirect(url_for("staff.lending_mismatches"), 303)
    except DomainError as error:
        flash(str(mismatch_words.refusal(error.code)), "error")
        return mismatches(failed=form, failed_id=mismatch_id, status=error.status)
    if outcome in mismatch_words.DONE:
        flash(str(mismatch_words.DONE[outcome]) % {"tag": tag}, "info")
    return redirect(url_for("staff.lending_mismatches"), 303)


def ask_lockers() -> ResponseReturnValue:
    """Ask every online locker for its full state now (after staff put a tool back, say)."""
    if not AskLockersForm().validate_on_submit():
        abort(400)
    with database().write() as session:
        asked = locker_reconciliation.ask_for_full_states(session, g.staff, clock().now())
    if asked:
        flash(
            _("Asked %(lockers)s; any disagreement appears here in a few seconds.",
              lockers=", ".join(asked)),
            "info",
        )  # fmt: skip
    else:
        flash(_("No locker is online to ask now."), "error")
    return redirect(url_for("staff.lending_mismatches"), 303)
