"""The kiosk's URLs, and the hooks every kiosk request passes through."""

from __future__ import annotations

from flask import Blueprint
from flask_wtf.csrf import CSRFError

from kiosk.touch import controllers, security, session

bp = Blueprint("touch", __name__, url_prefix="/kiosk")

bp.before_request(session.load_kiosk_context)
bp.after_request(session.write_kiosk_cookie)
bp.after_request(security.add_kiosk_headers)
bp.register_error_handler(CSRFError, controllers.csrf_failed)
bp.register_error_handler(404, controllers.not_found)
bp.context_processor(session.template_context)

bp.add_url_rule("/", "home", controllers.home, methods=["GET"])
bp.add_url_rule("/services/<service>", "service", controllers.service, methods=["GET"])
bp.add_url_rule("/sign-in", "sign_in_form", controllers.sign_in_form, methods=["GET"])
bp.add_url_rule("/sign-in", "sign_in", controllers.sign_in, methods=["POST"])
bp.add_url_rule("/sign-out", "sign_out", controllers.sign_out, methods=["POST"])
bp.add_url_rule("/session/keepalive", "keepalive", controllers.keepalive, methods=["POST"])
bp.add_url_rule("/language", "language", controllers.language, methods=["POST"])
