"""Every error of the JSON API in one envelope: ``{"error": {"code", "message", "details"}}``.

Domain errors keep their stable ``code`` and their ``status``; HTTP errors (401, 404, 405,
422 from argument validation, 400 from CSRF) get a code of their own. HTML pages are left
to Flask's (or their own area's) error pages: only paths under ``/api/`` answer in JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from booking.core.errors import DomainError

API_PATH_PREFIX = "/api/"

# HTTP errors whose werkzeug name would make a poor machine-readable code.
HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "not_signed_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "internal_error",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The API's error envelope as a JSON response."""
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def domain_error_response(error: DomainError) -> Response:
    details = {key: _jsonable(value) for key, value in error.details.items()}
    return error_response(error.status, error.code, error.message, details)


def http_error_response(error: HTTPException) -> Response:
    status = error.code or 500
    if isinstance(error, CSRFError):
        return error_response(status, "csrf_failed", error.description or "CSRF token missing")
    code = getattr(error, "api_code", None) or HTTP_ERROR_CODES.get(
        status, (error.name or "error").lower().replace(" ", "_")
    )
    message = error.description or error.name
    details: dict[str, Any] = {}
    headers: dict[str, str] = {}
    # webargs (through flask-smorest's abort) puts validation messages in ``data``.
    data = getattr(error, "data", None) or {}
    if isinstance(data, dict):
        if "messages" in data:
            details = {"fields": data["messages"]}
            message = "the request has invalid fields"
        elif "errors" in data:
            details = {"fields": data["errors"]}
        if "message" in data:
            message = str(data["message"])
        headers = dict(data.get("headers") or {})
    allowed = getattr(error, "valid_methods", None)
    if status == 405 and allowed:
        headers["Allow"] = ", ".join(sorted(allowed))
    return error_response(status, code, message, details, headers)


def _jsonable(value: object) -> object:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def is_api_request() -> bool:
    return request.path.startswith(API_PATH_PREFIX)


def init_app(app: Flask) -> None:
    """Answer HTTP errors on API paths with the envelope; leave every other path alone.

    The handler is app-wide because 404 and 405 happen before any blueprint is matched.
    """

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response | HTTPException:
        if is_api_request():
            return http_error_response(error)
        return error


def register_domain_errors(blueprint: Any) -> None:
    """Map domain errors raised inside an API blueprint's views to the envelope."""
    blueprint.register_error_handler(DomainError, domain_error_response)
