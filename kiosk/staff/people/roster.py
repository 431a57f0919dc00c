"""The residents' roster in the console: upload a CSV or .xlsx, read the dry run's report of
every row it would reject, confirm, print slips with one-time codes, export.

For admins only. An import creates thousands of accounts in one step and an export carries
every resident's phone and address out of the system: both are the centre's decision and
the centre's responsibility under the personal-information law, not a desk task. Desk staff
enrol and print a slip for one resident at a time.

Nothing is written before the admin confirms: the file is kept on the server under a random
token (kiosk.staff.people.roster_uploads), and the confirmation imports that same file after
checking it again in the import's own transaction; if the answer differs from the report the
admin read (someone was enrolled meanwhile), nothing is imported and the new report is shown.
"""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from booking.core import audit
from booking.core.models.sites import Site
from booking.people.models.resident_codes import CodePurpose
from booking.people.models.residents import mask_name
from booking.people.roster import checking, exporting, importing, reading, slips
from booking.people.roster.checking import RosterReport
from booking.people.roster.reading import RosterFileError
from kiosk.extensions import clock, database
from kiosk.staff.auth import admin_required
from kiosk.staff.csv_export import csv_lines
from kiosk.staff.people import code_slip, roster_files, roster_uploads, roster_words
from kiosk.staff.session import console_site_id

# Room for the form's other fields and the multipart framing around the file.
UPLOAD_LIMIT = reading.MAX_FILE_BYTES + 64 * 1024
ALL_BUILDINGS = "*"


class UploadForm(FlaskForm):  # type: ignore[misc]
    roster = FileField(_l("Roster file (CSV or .xlsx)"),
                       validators=[FileRequired(_l("Choose the roster file."))],
                       render_kw={"accept": ".csv,.xlsx,.txt"})  # fmt: skip


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """Nothing to fill in: the token is in the address and the CSRF token is the form."""


class SlipsForm(FlaskForm):  # type: ignore[misc]
    building = SelectField(_l("Building"), choices=[], validate_choice=True)
    count = IntegerField(
        _l("How many slips"),
        default=24,
        validators=[
            InputRequired(_l("Say how many slips to print.")),
            NumberRange(1, slips.MAX_SLIPS,
                        _l("From 1 to %(max)d slips at a time.", max=slips.MAX_SLIPS)),
        ],
    )  # fmt: skip


def _slips_form(formdata: object | None = None) -> SlipsForm:
    with database().read() as session:
        waiting = slips.awaiting_by_building(session, site_id=console_site_id(), now=clock().now())
    form = SlipsForm(formdata=formdata)
    total = sum(count for _, count in waiting)
    unnamed = _("No building")
    form.building.choices = [(ALL_BUILDINGS, _("All buildings (%(num)d)", num=total))] + [
        (name, f"{name or unnamed} ({count})") for name, count in waiting
    ]
    form.waiting = total
    return form


def _page(upload_form: UploadForm | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "staff/roster.html",
        upload_form=upload_form or UploadForm(),
        slips_form=_slips_form(),
        max_mb=reading.MAX_FILE_BYTES // 2**20,
        max_rows=reading.MAX_ROWS,
    ), status


@admin_required
def roster() -> ResponseReturnValue:
    return _page()


def _report(report: RosterReport, token: str, *, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "staff/roster_report.html",
        report=report,
        token=token,
        confirm_form=ConfirmForm(),
        reason=roster_words.row_reason,
        field_labels=roster_words.FIELD_LABELS,
    ), status


@admin_required
def check() -> ResponseReturnValue:
    """The dry run: read and check the file, keep it, show the report. Writes nothing."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    upload = form.roster.data
    data = upload.stream.read(reading.MAX_FILE_BYTES + 1)
    now = clock().now()
    try:
        sheet = reading.read_roster(data)
        with database().read() as session:
            report = checking.check_roster(session, site_id=console_site_id(), sheet=sheet, now=now)
    except RosterFileError as error:
        form.roster.errors = [roster_words.file_error(error)]
        return _page(form, 400)
    token = roster_uploads.save(
        data, filename=upload.filename or "", site_id=console_site_id(), staff_id=g.staff.id,
        accepted=report.accepted_numbers, now=now,
    )  # fmt: skip
    return _report(report, token)


@admin_required
def confirm(token: str) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    now = clock().now()
    upload = roster_uploads.load(token, site_id=console_site_id(), staff_id=g.staff.id, now=now)
    if upload is None:
        flash(_("That checked file is no longer here (it is kept for two hours): upload it "
                "again."), "error")  # fmt: skip
        return redirect(url_for("staff.residents_roster"), code=303)
    sheet = reading.read_roster(upload.data)  # read once already: it reads the same again
    result: importing.ImportResult | None = None
    try:
        with database().write() as session:
            report = checking.check_roster(session, site_id=console_site_id(), sheet=sheet, now=now)
            if report.accepted_numbers == upload.accepted:
                result = importing.import_roster(
                    session, site_id=console_site_id(), report=report, now=now,
                    actor=audit.staff_actor(g.staff), staff_id=g.staff.id,
                    file_digest=upload.digest,
                )  # fmt: skip
    except IntegrityError:
        # Someone enrolled one of these phones between the check and the insert.
        result = None
    if result is None:
        with database().read() as session:
            report = checking.check_roster(session, site_id=console_site_id(), sheet=sheet, now=now)
        roster_uploads.replace_accepted(token, report.accepted_numbers)
        flash(_("Residents were enrolled while you read the report, so it has changed and "
                "nothing was imported. Read it again and confirm."), "error")  # fmt: skip
        return _report(report, token, status=409)
    roster_uploads.discard(token)
    flash(ngettext("%(num)d resident imported.", "%(num)d residents imported.",
                   result.created + result.joined), "success")  # fmt: skip
    return redirect(url_for("staff.residents_roster"), code=303)


@admin_required
def print_slips() -> ResponseReturnValue:
    form = _slips_form(request.form)
    if not form.validate_on_submit():
        return render_template(
            "staff/roster.html", upload_form=UploadForm(), slips_form=form,
            max_mb=reading.MAX_FILE_BYTES // 2**20, max_rows=reading.MAX_ROWS,
        ), 400  # fmt: skip
    building = None if form.building.data == ALL_BUILDINGS else form.building.data
    with database().write() as session:
        site = session.get(Site, console_site_id())
        issued = slips.issue_slips(
            session, site_id=console_site_id(), now=clock().now(), actor=audit.staff_actor(g.staff),
            staff_id=g.staff.id, building=building, limit=form.count.data,
        )  # fmt: skip
        # The same slip as the desk prints for one resident (kiosk.staff.people.code_slip).
        zone = ZoneInfo(site.timezone if site else "Asia/Shanghai")
        printed = []
        for slip in issued:
            expires = f"{slip.code.expires_at.astimezone(zone):%Y-%m-%d %H:%M}"
            printed.append({
                "shown_name": mask_name(slip.name), "address": slip.address,
                "phone_tail": slip.phone[-4:], "code": slip.code.spaced, "expires": expires,
                "texts": code_slip.slip_texts(CodePurpose.ENROL, expires),
            })  # fmt: skip
        return render_template("staff/roster_slips.html", site=site, slips=printed)


def _export_rows() -> list[list[exporting.ExportCell]]:
    with database().write() as session:
        rows = list(exporting.roster_rows(session, site_id=console_site_id()))
        audit.record_staff(session, g.staff, action="resident.roster_exported", now=clock().now(),
                           detail={"residents": len(rows)})  # fmt: skip
    return rows


@admin_required
def export_csv() -> ResponseReturnValue:
    body = "".join(csv_lines(exporting.HEADER, _export_rows()))
    return _download(body.encode("utf-8"), "text/csv; charset=utf-8", "csv")


@admin_required
def export_xlsx() -> ResponseReturnValue:
    out = io.BytesIO()
    roster_files.write_xlsx(out, exporting.HEADER, _export_rows())
    return _download(out.getvalue(), roster_files.XLSX_TYPE, "xlsx")


def _download(body: bytes, mimetype: str, suffix: str) -> Response:
    stamp = clock().now().strftime("%Y%m%d")
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="roster-{stamp}.{suffix}"'
    return response


def _allow_a_roster(endpoint: str | None, values: dict[str, object] | None) -> None:
    """Let the upload be bigger than the app's limit for other requests; set before any
    before_request handler (the CSRF check) reads the body."""
    if endpoint == "staff.residents_roster_check":
        request.max_content_length = UPLOAD_LIMIT


def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """An upload over the limit, refused before it is read (by the first reader of the
    body, the app's input guard or the CSRF check). Said on the roster page after a
    redirect: every console page builds forms from the body, which cannot be read."""
    if request.endpoint != "staff.residents_roster_check":
        return error
    flash(roster_words.file_error(RosterFileError("too big", reason=reading.TOO_BIG)), "error")
    return redirect(url_for("staff.residents_roster"), code=303)


def register(bp: Blueprint) -> None:
    """The roster's URLs on the console's blueprint."""
    bp.url_value_preprocessor(_allow_a_roster)
    bp.register_error_handler(RequestEntityTooLarge, _too_large)
    add = bp.add_url_rule
    add("/residents/roster", "residents_roster", roster)
    add("/residents/roster/check", "residents_roster_check", check, methods=["POST"])
    add("/residents/roster/<token>/confirm", "residents_roster_confirm", confirm, methods=["POST"])
    add("/residents/roster/slips", "residents_roster_slips", print_slips, methods=["POST"])
    add("/residents/roster.csv", "residents_roster_csv", export_csv)
    add("/residents/roster.xlsx", "residents_roster_xlsx", export_xlsx)
