"""The staff console's URL list. Every route needs a signed-in account unless listed in
``auth.PUBLIC_ENDPOINTS``; the check runs before any view, so a new view cannot forget it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, g, request, url_for

from kiosk.staff import audit_log, auth, nav, overview, refusals, site_switch, table_formats
from kiosk.staff import session as staff_session
from kiosk.staff.admin import api_tokens as admin_api_tokens
from kiosk.staff.admin import devices as admin_devices
from kiosk.staff.admin import pages as admin
from kiosk.staff.admin import reader_pairing as admin_reader_pairing
from kiosk.staff.admin import spaces as admin_spaces
from kiosk.staff.admin import tools as admin_tools
from kiosk.staff.alerts import pages as alerts
from kiosk.staff.alerts import stream as alert_stream
from kiosk.staff.devices import board as devices_board
from kiosk.staff.district import pages as district_pages
from kiosk.staff.forms import LanguageForm, SignOutForm, SiteSwitchForm
from kiosk.staff.health import contact as health_contact
from kiosk.staff.health import pages as health_pages
from kiosk.staff.insights.pages import insights_csv, insights_page
from kiosk.staff.lending import ahead as lending_ahead
from kiosk.staff.lending import counter as lending_counter
from kiosk.staff.lending import event_words, loan_lines
from kiosk.staff.lending import mismatches as lending_mismatches
from kiosk.staff.lending import pages as lending_pages
from kiosk.staff.people import (
    account_routes,
    accounts,
    act_for,
    act_for_lending,
    colleagues,
    enrol,
    failed_messages,
    pin_reset,
    residents,
)
from kiosk.staff.people import calendar_feed as resident_calendar_feed
from kiosk.staff.people import details as resident_details
from kiosk.staff.people import roster as residents_roster
from kiosk.staff.people import sign_in_failures as resident_sign_in_failures
from kiosk.staff.people.resident_page import (
    lift_lending_suspension,
    lift_seat_suspension,
    resident,
)
from kiosk.staff.spaces import approvals as booking_approvals
from kiosk.staff.spaces import calendar as booking_calendar
from kiosk.staff.spaces import closures as booking_closures
from kiosk.staff.spaces import series as booking_series
from kiosk.staff.spaces import suspensions as booking_suspensions

bp = Blueprint(
    "staff",
    __name__,
    url_prefix="/staff",
    static_folder="../static/staff",
    static_url_path="/static",
)
bp.before_request(auth.require_sign_in)
# No-store and the other headers are app-wide (kiosk.security_headers).
bp.after_request(staff_session.forget_stale_cookie)

bp.add_url_rule("/sign-in", "sign_in", auth.sign_in, methods=["GET", "POST"])
bp.add_url_rule("/sign-out", "sign_out", auth.sign_out, methods=["POST"])
bp.add_url_rule("/password", "change_password", auth.change_password, methods=["GET", "POST"])
bp.add_url_rule("/language", "choose_language", auth.choose_language, methods=["POST"])
# The district overview's "open this centre's console" buttons post site=<slug> here too.
bp.add_url_rule("/site", "switch_site", site_switch.switch_site, methods=["POST"])
bp.add_url_rule("/", "overview", overview.overview)
bp.add_url_rule("/residents", "residents", residents.residents)
bp.add_url_rule("/residents/new", "resident_enrol", enrol.enrol, methods=["GET", "POST"])
bp.add_url_rule(
    "/residents/<id:resident_id>/details", "resident_details", resident_details.details,
    methods=["GET", "POST"],
)  # fmt: skip
bp.add_url_rule("/residents/<id:resident_id>", "resident", resident)
bp.add_url_rule("/messages/failed", "failed_messages", failed_messages.failed_messages)
residents_roster.register(bp)
bp.add_url_rule(
    "/residents/<id:resident_id>/pin-reset", "resident_reset_pin", pin_reset.reset_pin,
    methods=["POST"],
)  # fmt: skip
bp.add_url_rule(
    "/residents/<id:resident_id>/sign-in-failures/clear",
    "resident_clear_sign_in_failures",
    resident_sign_in_failures.clear,
    methods=["POST"],
)
bp.add_url_rule(
    "/residents/<id:resident_id>/calendar-feed/revoke", "resident_revoke_calendar_feed",
    resident_calendar_feed.revoke, methods=["POST"],
)  # fmt: skip
bp.add_url_rule(
    "/residents/<id:resident_id>/seat-suspensions/<id:suspension_id>/lift",
    "resident_lift_seat_suspension",
    lift_seat_suspension,
    methods=["POST"],
)
bp.add_url_rule(
    "/residents/<id:resident_id>/lending-suspensions/<id:suspension_id>/lift",
    "resident_lift_lending_suspension",
    lift_lending_suspension,
    methods=["POST"],
)
# Staff acting for a resident (at the counter, on the phone): kiosk/staff/people/act_for*.py
for rule, endpoint, view, methods in (
    ("/book/seat", "resident_book_seat", act_for.book_seat, ["GET", "POST"]),
    ("/book/room", "resident_book_room", act_for.book_room, ["GET", "POST"]),
    ("/bookings/<id:booking_id>/cancel", "resident_cancel_booking", act_for.cancel_booking,
     ["POST"]),
    ("/lend", "resident_lend", act_for_lending.tool_page, ["GET"]),
    ("/lend/locker/<id:tool_type_id>", "resident_lend_locker", act_for_lending.lend_from_locker,
     ["POST"]),
    ("/lend/hold/<id:tool_type_id>", "resident_hold_tool", act_for_lending.hold_for_resident,
     ["POST"]),
    ("/lend/counter/<id:item_id>", "resident_lend_counter", act_for_lending.lend_at_counter,
     ["POST"]),
    ("/pickups/<id:door_session_id>", "resident_pickup", act_for_lending.pickup, ["GET"]),
    ("/pickups/<id:door_session_id>/cancel", "resident_pickup_cancel",
     act_for_lending.cancel_pickup, ["POST"]),
):  # fmt: skip
    bp.add_url_rule(f"/residents/<id:resident_id>{rule}", endpoint, view, methods=methods)
account_routes.register(bp)
bp.add_url_rule("/accounts", "accounts", accounts.accounts)
colleagues.register(bp)
bp.add_url_rule("/accounts/<id:staff_id>/sites", "account_grant_site", accounts.grant_site,
                methods=["POST"])  # fmt: skip
bp.add_url_rule("/accounts/<id:staff_id>/sites/<id:site_id>/revoke", "account_revoke_site",
                accounts.revoke_site, methods=["POST"])  # fmt: skip
bp.add_url_rule("/insights", "insights", insights_page)
bp.add_url_rule("/insights/<chart>.csv", "insights_csv", insights_csv)
district_pages.register(bp)
bp.add_url_rule("/alerts", "alerts", alerts.inbox)
bp.add_url_rule("/alerts/stream", "alerts_stream", alert_stream.stream)
bp.add_url_rule("/alerts/history", "alerts_history", alerts.history)
bp.add_url_rule(
    "/alerts/<id:alert_id>/acknowledge", "alert_acknowledge", alerts.acknowledge, methods=["POST"]
)
bp.add_url_rule("/alerts/<id:alert_id>/resolve", "alert_resolve", alerts.resolve, methods=["POST"])
bp.add_url_rule("/devices", "devices", devices_board.board)
bp.add_url_rule(
    "/devices/<device_id>/compartments/<id:compartment>/open",
    "device_maintenance_open",
    devices_board.maintenance_open,
    methods=["POST"],
)
bp.add_url_rule(
    "/devices/<device_id>/session/reset",
    "device_session_reset",
    devices_board.reset_session,
    methods=["POST"],
)
bp.add_url_rule("/audit", "audit_log", audit_log.audit_log)
bp.add_url_rule("/admin", "admin", admin.index)
bp.add_url_rule("/admin/hours", "admin_hours", admin.hours, methods=["GET", "POST"])
bp.add_url_rule("/admin/policy", "admin_policy", admin.policy, methods=["GET", "POST"])
bp.add_url_rule("/admin/spaces", "admin_spaces", admin_spaces.spaces)
bp.add_url_rule(
    "/admin/spaces/new", "admin_new_space", admin_spaces.new_space, methods=["GET", "POST"]
)
bp.add_url_rule(
    "/admin/spaces/<id:space_id>/retire",
    "admin_retire_space",
    admin_spaces.retire_space,
    methods=["POST"],
)
bp.add_url_rule(
    "/admin/spaces/<id:space_id>/restore",
    "admin_restore_space",
    admin_spaces.restore_space,
    methods=["POST"],
)
bp.add_url_rule(
    "/admin/spaces/<id:space_id>", "admin_space", admin_spaces.space, methods=["GET", "POST"]
)
bp.add_url_rule(
    "/admin/spaces/<id:space_id>/seats", "admin_add_seat", admin_spaces.add_seat, methods=["POST"]
)
bp.add_url_rule(
    "/admin/spaces/<id:space_id>/seat-rows",
    "admin_add_seat_rows",
    admin_spaces.add_seat_rows,
    methods=["POST"],
)
bp.add_url_rule(
    "/admin/spaces/<id:space_id>/rules",
    "admin_space_rules",
    admin_spaces.space_rules,
    methods=["POST"],
)
bp.add_url_rule("/admin/seats/<id:seat_id>", "admin_seat", admin_spaces.seat, methods=["POST"])
bp.add_url_rule("/admin/tools", "admin_tools", admin_tools.tools)
bp.add_url_rule(
    "/admin/tools/new", "admin_new_tool_type", admin_tools.tool_type, methods=["GET", "POST"]
)
bp.add_url_rule(
    "/admin/tools/<id:tool_type_id>",
    "admin_tool_type",
    admin_tools.tool_type,
    methods=["GET", "POST"],
)
bp.add_url_rule(
    "/admin/tools/<id:tool_type_id>/retire",
    "admin_retire_tool_type",
    admin_tools.retire_tool_type,
    methods=["POST"],
)
bp.add_url_rule(
    "/admin/tools/<id:tool_type_id>/restore",
    "admin_restore_tool_type",
    admin_tools.restore_tool_type,
    methods=["POST"],
)
bp.add_url_rule("/admin/items/new", "admin_new_item", admin_tools.item, methods=["GET", "POST"])
bp.add_url_rule(
    "/admin/items/<id:item_id>", "admin_item", admin_tools.item, methods=["GET", "POST"]
)
bp.add_url_rule("/admin/devices", "admin_devices", admin_devices.devices, methods=["GET", "POST"])
bp.add_url_rule(
    "/admin/devices/<device_id>/credentials",
    "admin_rotate_device",
    admin_devices.rotate,
    methods=["POST"],
)
bp.add_url_rule("/admin/kiosk-screen", "admin_kiosk_screen", admin_devices.use_as_kiosk_screen,
                methods=["POST"])  # fmt: skip
bp.add_url_rule("/admin/devices/<device_id>/pairing", "admin_reader_pairing",
                admin_reader_pairing.offer, methods=["POST"])  # fmt: skip
bp.add_url_rule(
    "/admin/devices/<device_id>/revoke",
    "admin_revoke_device",
    admin_devices.revoke,
    methods=["POST"],
)
bp.add_url_rule(
    "/admin/api-tokens", "admin_api_tokens", admin_api_tokens.tokens, methods=["GET", "POST"]
)
bp.add_url_rule(
    "/admin/api-tokens/<id:token_id>/revoke",
    "admin_revoke_api_token",
    admin_api_tokens.revoke,
    methods=["POST"],
)
bp.add_url_rule("/health", "health", health_pages.overview)
bp.add_url_rule("/health/settings", "health_settings", health_pages.save_settings, methods=["POST"])
bp.add_url_rule("/health/residents/<id:resident_id>", "health_resident", health_pages.resident)
bp.add_url_rule(
    "/health/residents/<id:resident_id>/contact-consent", "health_contact_consent",
    health_contact.record_consent, methods=["POST"],
)  # fmt: skip
bp.add_url_rule(
    "/health/residents/<id:resident_id>/contact-message", "health_contact_message",
    health_contact.message_contact, methods=["POST"],
)  # fmt: skip
bp.add_url_rule(
    "/health/residents/<id:resident_id>/fhir.json", "health_export", health_pages.export
)
bp.add_url_rule(
    "/health/residents/<id:resident_id>/paper-consent",
    "health_paper_consent",
    health_pages.record_paper_consent,
    methods=["POST"],
)
bp.add_url_rule(
    "/health/residents/<id:resident_id>/withdrawal",
    "health_withdrawal",
    health_pages.record_withdrawal,
    methods=["POST"],
)
bp.add_url_rule(
    "/health/alerts/<id:alert_id>/acknowledge",
    "health_alert_acknowledge",
    health_pages.acknowledge,
    methods=["POST"],
)
bp.add_url_rule(
    "/health/alerts/<id:alert_id>/note",
    "health_alert_note",
    health_pages.add_note,
    methods=["POST"],
)
bp.add_url_rule(
    "/health/alerts/<id:alert_id>/resolve",
    "health_alert_resolve",
    health_pages.resolve,
    methods=["POST"],
)
bp.add_url_rule("/lending", "lending", lending_pages.records)
bp.add_url_rule("/lending/records.csv", "lending_csv", lending_pages.records_csv)
bp.add_url_rule("/lending/overdue", "lending_overdue", lending_pages.overdue)
bp.add_url_rule("/lending/counter", "lending_counter", lending_pages.counter)
bp.add_url_rule("/lending/checks", "lending_mismatches", lending_mismatches.mismatches)
bp.add_url_rule(
    "/lending/checks/ask", "lending_ask_lockers", lending_mismatches.ask_lockers,
    methods=["POST"],
)  # fmt: skip
bp.add_url_rule(
    "/lending/checks/<id:mismatch_id>/resolve", "lending_mismatch_resolve",
    lending_mismatches.resolve, methods=["POST"],
)  # fmt: skip
bp.add_url_rule("/lending/items/<id:item_id>", "lending_item", lending_pages.item)
# Tools ahead of time (issue 17): a loan renewed from its row; each tool's reservations and queue.
bp.add_url_rule(
    "/lending/loans/<id:loan_id>/renew", "lending_renew", lending_ahead.renew, methods=["POST"]
)
bp.add_url_rule("/lending/reservations", "lending_reservations", lending_ahead.tool_reservations)
bp.add_url_rule(
    "/lending/reservations/<id:reservation_id>/cancel", "lending_reservation_cancel",
    lending_ahead.cancel, methods=["POST"],
)  # fmt: skip
bp.add_url_rule(
    "/lending/items/<id:item_id>/lend", "lending_lend", lending_counter.lend, methods=["POST"]
)
bp.add_url_rule(
    "/lending/items/<id:item_id>/maintenance-open",
    "lending_maintenance_open",
    lending_counter.maintenance_open,
    methods=["POST"],
)
bp.add_url_rule(
    "/lending/loans/<id:loan_id>/return", "lending_return", lending_counter.take_back,
    methods=["POST"],
)  # fmt: skip
bp.add_url_rule("/lending/residents/<id:resident_id>", "lending_resident", lending_pages.resident)
bp.add_url_rule("/bookings", "bookings", booking_calendar.calendar)
bp.add_url_rule("/bookings/approvals", "booking_approvals", booking_approvals.approvals)
bp.add_url_rule(
    "/bookings/<id:booking_id>/approve", "booking_approve", booking_approvals.approve,
    methods=["POST"],
)  # fmt: skip
bp.add_url_rule(
    "/bookings/<id:booking_id>/reject", "booking_reject", booking_approvals.reject,
    methods=["POST"],
)  # fmt: skip
bp.add_url_rule("/bookings/series", "booking_series", booking_series.series_list)
bp.add_url_rule(
    "/bookings/series/new", "booking_series_create", booking_series.create, methods=["POST"]
)
bp.add_url_rule(
    "/bookings/series/<id:series_id>/exceptions", "booking_series_exception",
    booking_series.add_exception, methods=["POST"],
)  # fmt: skip
bp.add_url_rule(
    "/bookings/series/<id:series_id>/end", "booking_series_end", booking_series.end,
    methods=["POST"],
)  # fmt: skip
bp.add_url_rule("/bookings/closures", "booking_closures", booking_closures.closure_list)
bp.add_url_rule(
    "/bookings/closures", "booking_closure_declare", booking_closures.declare, methods=["POST"]
)
bp.add_url_rule("/bookings/suspensions", "booking_suspensions", booking_suspensions.suspensions)
bp.add_url_rule(
    "/bookings/suspensions/<id:suspension_id>/lift", "booking_suspension_lift",
    booking_suspensions.lift, methods=["POST"],
)  # fmt: skip


refusals.register(bp)


# Filters, not context: the lending macros are imported without the page's context.
bp.add_app_template_filter(event_words.detail_text, "lending_detail")
bp.add_app_template_filter(event_words.actor_text, "lending_actor")
bp.add_app_template_filter(event_words.item_condition, "item_condition")
table_formats.register(bp)
bp.add_app_template_global(loan_lines.loan_lines, "loan_lines")


@bp.context_processor
def _console_context() -> dict[str, Any]:
    choices = site_switch.choices_for(g.get("staff"))
    return {
        "staff": g.get("staff"),
        "nav_entries": nav.entries_for(g.get("staff")),
        "nav_section": nav.section_of(request.endpoint),
        "sign_out_form": SignOutForm(),
        "language_form": LanguageForm(next=_page_to_return_to()),
        "site_choices": choices,
        # Only drawn with choices to make (staff of one centre have none): no form built else.
        "site_switch_form": SiteSwitchForm() if choices else None,
    }


def _page_to_return_to() -> str:
    """Where choosing a language comes back to: this page; for a form sent back with its
    errors (a POST) the page it was sent from, as the POST address answers no GET."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    sent_from = urlsplit(request.referrer or "")
    if sent_from.netloc == request.host and sent_from.path:
        return sent_from.path + (f"?{sent_from.query}" if sent_from.query else "")
    return url_for("staff.overview")
