"""The kiosk's URLs, and the hooks every kiosk request passes through."""

from __future__ import annotations

from flask import Blueprint
from flask_wtf.csrf import CSRFError

import kiosk.touch.health.pages as health_pages
from kiosk.touch import code_pin, controllers, message_choices, new_pin, session, text_size
from kiosk.touch.lending import ahead as lending_ahead
from kiosk.touch.lending import door as lending_door
from kiosk.touch.lending import pages as lending_pages
from kiosk.touch.reader import card_sign_in
from kiosk.touch.reader import paired as reader_paired
from kiosk.touch.reader import results as reader_results
from kiosk.touch.reader import setup as reader_setup
from kiosk.touch.spaces import my_bookings, seat_actions
from kiosk.touch.spaces import rooms as room_pages
from kiosk.touch.spaces import seats as seat_pages
from kiosk.touch.spaces import words as booking_words

bp = Blueprint("touch", __name__, url_prefix="/kiosk")

bp.before_request(session.load_kiosk_context)
bp.add_app_template_filter(booking_words.local_moment, "kiosk_moment")
bp.before_request(new_pin.ask_for_new_pin)
bp.after_request(session.write_kiosk_cookie)
bp.register_error_handler(CSRFError, controllers.csrf_failed)
bp.register_error_handler(404, controllers.not_found)
bp.context_processor(session.template_context)

bp.add_url_rule("/", "home", controllers.home, methods=["GET"])
bp.add_url_rule("/services/<service>", "service", controllers.service, methods=["GET"])
bp.add_url_rule("/sign-in", "sign_in_form", controllers.sign_in_form, methods=["GET"])
bp.add_url_rule("/sign-in", "sign_in", controllers.sign_in, methods=["POST"])
bp.add_url_rule("/sign-out", "sign_out", controllers.sign_out, methods=["POST"])
bp.add_url_rule("/pin", "new_pin", new_pin.new_pin, methods=["GET"])
bp.add_url_rule("/pin", "choose_pin", new_pin.choose_pin, methods=["POST"])
# A PIN chosen with the one-time code on a staff slip (first time, or forgotten).
bp.add_url_rule("/code", "code_form", code_pin.code_form, methods=["GET"])
bp.add_url_rule("/code", "check_code", code_pin.check_code, methods=["POST"])
bp.add_url_rule("/code/pin", "code_pin_form", code_pin.code_pin_form, methods=["GET"])
bp.add_url_rule("/code/pin", "code_pin", code_pin.code_pin, methods=["POST"])
bp.add_url_rule("/session/keepalive", "keepalive", controllers.keepalive, methods=["POST"])
bp.add_url_rule("/language", "language", controllers.language, methods=["POST"])
bp.add_url_rule("/text-size", "text_size", text_size.switch, methods=["POST"])
bp.add_url_rule("/messages", "message_choices", message_choices.choices, methods=["GET"])
bp.add_url_rule("/messages", "message_choose", message_choices.choose, methods=["POST"])
bp.context_processor(text_size.template_context)

# Blood pressure (issue 6); a fixed path wins over "/services/<service>"'s "coming soon".
BP = "/services/blood-pressure"
bp.add_url_rule(BP, "health", health_pages.overview, methods=["GET"])
bp.add_url_rule(f"{BP}/consent", "health_consent", health_pages.give_consent, methods=["POST"])
bp.add_url_rule(f"{BP}/decline", "health_decline", health_pages.decline_consent, methods=["POST"])
bp.add_url_rule(f"{BP}/measure", "health_measure", health_pages.measure, methods=["POST"])
bp.add_url_rule(f"{BP}/measure/<id:pairing_id>", "health_waiting", health_pages.waiting)
bp.add_url_rule(
    f"{BP}/measure/<id:pairing_id>/status", "health_status", health_pages.waiting_status
)
bp.add_url_rule(
    f"{BP}/measure/<id:pairing_id>/cancel", "health_cancel", health_pages.cancel, methods=["POST"]
)
bp.add_url_rule(f"{BP}/readings/<id:reading_id>", "health_reading", health_pages.reading)
bp.add_url_rule(f"{BP}/history", "health_history", health_pages.history)
bp.add_url_rule(f"{BP}/withdraw", "health_withdraw_form", health_pages.withdraw_form)
bp.add_url_rule(f"{BP}/withdraw", "health_withdraw", health_pages.withdraw, methods=["POST"])

# Study seats, activity rooms and my bookings (issue 4).
bp.add_url_rule("/seats", "seats", seat_pages.seat_map, methods=["GET"])
bp.add_url_rule("/seats/<id:seat_id>", "seat", seat_pages.seat_page, methods=["GET"])
bp.add_url_rule("/seats/book", "book_seat", seat_actions.book_seat, methods=["POST"])
bp.add_url_rule("/seats/waitlist", "wait_for_seat", seat_actions.wait_for_seat, methods=["POST"])
bp.add_url_rule("/seats/sit-now", "sit_now", seat_actions.sit_now, methods=["POST"])
bp.add_url_rule("/rooms", "rooms", room_pages.timeline, methods=["GET"])
bp.add_url_rule("/rooms/<id:space_id>/book", "room_form", room_pages.room_form, methods=["GET"])
bp.add_url_rule("/rooms/<id:space_id>/book", "book_room", room_pages.book_room, methods=["POST"])
bp.add_url_rule(
    "/rooms/<id:space_id>/waitlist", "wait_for_room", room_pages.wait_for_room, methods=["POST"]
)
bp.add_url_rule("/bookings", "my_bookings", my_bookings.my_bookings, methods=["GET"])
bp.add_url_rule(
    "/bookings/<id:booking_id>", "booking_slip", my_bookings.booking_slip_page, methods=["GET"]
)
# Cancelling asks first, on a page of its own (no pop-ups for older residents).
bp.add_url_rule(
    "/bookings/<id:booking_id>/cancel", "cancel_booking_form", my_bookings.cancel_form,
    methods=["GET"],
)  # fmt: skip
bp.add_url_rule(
    "/bookings/<id:booking_id>/<action>",
    "booking_action",
    my_bookings.booking_action,
    methods=["POST"],
)
bp.add_url_rule(
    "/waitlist/<id:entry_id>/leave", "leave_queue", my_bookings.leave_queue, methods=["POST"]
)
bp.add_url_rule(
    "/notifications/<id:notification_id>/read",
    "notice_read",
    my_bookings.notice_read,
    methods=["POST"],
)

# Borrowing and returning tools (issue 5).
bp.add_url_rule("/tools", "tools", lending_pages.catalogue, methods=["GET"])
bp.add_url_rule(
    "/tools/<id:tool_type_id>/borrow", "borrow_tool", lending_pages.borrow, methods=["POST"]
)
# A tool staff held for the resident: its pickup opens from here, then waits like any other.
bp.add_url_rule(
    "/tools/holds/<id:door_session_id>/open", "open_tool_hold", lending_pages.open_hold,
    methods=["POST"],
)  # fmt: skip
# A pickup and a return are one door session with one waiting screen; the URL names which.
for _purpose in ("pickup", "return"):
    bp.add_url_rule(
        f"/tools/{_purpose}/<id:door_session_id>", f"tool_{_purpose}",
        lending_door.door_page, defaults={"purpose": _purpose},
    )  # fmt: skip
    bp.add_url_rule(
        f"/tools/{_purpose}/<id:door_session_id>/status", f"tool_{_purpose}_status",
        lending_door.door_status, defaults={"purpose": _purpose},
    )  # fmt: skip
# Tools ahead of time (issue 17): a window reserved, a queue place, either cancelled, a renewal.
bp.add_url_rule("/tools/<id:tool_type_id>/reserve", "reserve_tool_form", lending_ahead.reserve_form)
bp.add_url_rule(
    "/tools/<id:tool_type_id>/reserve", "reserve_tool", lending_ahead.reserve, methods=["POST"]
)
bp.add_url_rule(
    "/tools/<id:tool_type_id>/queue", "queue_for_tool", lending_ahead.join_queue, methods=["POST"]
)
bp.add_url_rule(
    "/tools/reservations/<id:reservation_id>/cancel", "cancel_tool_reservation",
    lending_ahead.cancel, methods=["POST"],
)  # fmt: skip
bp.add_url_rule(
    "/tools/loans/<id:loan_id>/renew", "renew_tool", lending_ahead.renew, methods=["POST"]
)
bp.add_url_rule("/tools/loans/<id:loan_id>/slip", "tool_slip", lending_pages.slip)
bp.add_url_rule("/tools/mine", "tools_mine", lending_pages.my_loans, methods=["GET"])
bp.add_url_rule(
    "/tools/loans/<id:loan_id>/return", "return_tool", lending_pages.give_back, methods=["POST"]
)
bp.add_url_rule(
    "/tools/loans/<id:loan_id>/condition", "tool_condition_form", lending_pages.condition_form
)
bp.add_url_rule(
    "/tools/loans/<id:loan_id>/condition",
    "tool_condition",
    lending_pages.report_condition,
    methods=["POST"],
)

# The screen's card and code reader (kiosk.touch.reader); its poll is outside /kiosk.
bp.context_processor(reader_paired.template_context)
bp.add_url_rule("/reader/setup", "reader_setup", reader_setup.setup_form, methods=["GET"])
bp.add_url_rule("/reader/setup", "reader_pair", reader_setup.pair, methods=["POST"])
bp.add_url_rule("/reader/result", "reader_result", reader_results.result, methods=["GET"])
bp.add_url_rule("/reader/return/<id:door_session_id>", "reader_return", reader_results.return_page)
bp.add_url_rule(
    "/reader/return/<id:door_session_id>/status",
    "reader_return_status",
    reader_results.return_status,
)
bp.add_url_rule("/sign-in/card", "card_sign_in_form", card_sign_in.card_sign_in_form)
bp.add_url_rule("/sign-in/card", "card_sign_in", card_sign_in.card_sign_in, methods=["POST"])
