"""The OpenAPI document is generated from the code and covers every API route."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json  # type: ignore[assignment]
    return document


def _openapi_path(rule: str) -> str:
    # Flask's /residents/<int:resident_id> is OpenAPI's /residents/{resident_id}.
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _api_rules(app: Flask) -> list[tuple[str, set[str]]]:
    return [
        (_openapi_path(rule.rule), {m.lower() for m in rule.methods or ()} - {"head", "options"})
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
    ]


def test_the_openapi_document_is_valid_openapi_3(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.")
    validate(spec)


def test_every_api_route_and_method_is_in_the_openapi_document(
    app: Flask, spec: dict[str, Any]
) -> None:
    rules = _api_rules(app)
    assert rules  # the walk found the API, not nothing
    for path, methods in rules:
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), (path, methods)


def test_every_documented_error_uses_the_error_envelope(spec: dict[str, Any]) -> None:
    envelope = spec["components"]["schemas"]["Error"]
    assert envelope["required"] == ["error"]
    for name, response in spec["components"]["responses"].items():
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}, name


def test_routes_document_their_401_403_the_session_cookie_the_token_and_its_scope(
    spec: dict[str, Any],
) -> None:
    operation = spec["paths"]["/api/v1/residents"]["get"]
    assert {"401", "403", "422"} <= set(operation["responses"])
    assert operation["security"] == [{"staffSession": []}, {"apiToken": []}]
    assert operation["x-token-scope"] == "residents:read"
    scheme = spec["components"]["securitySchemes"]["staffSession"]
    assert (scheme["in"], scheme["name"]) == ("cookie", "linli_staff")
    token = spec["components"]["securitySchemes"]["apiToken"]
    assert (token["type"], token["scheme"]) == ("http", "bearer")
    assert spec["paths"]["/api/v1/staff/me"]["get"]["security"] == [{"staffSession": []}]
    assert "security" not in spec["paths"]["/api/v1/health"]["get"]


def test_every_operation_open_to_tokens_names_a_known_scope(spec: dict[str, Any]) -> None:
    from booking.people.api_tokens import SCOPES

    scoped = {
        (path, method): operation["x-token-scope"]
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "x-token-scope" in operation
    }
    assert len(scoped) >= 8  # availability, bookings and residents: the walk found them
    assert set(scoped.values()) <= set(SCOPES)


def test_health_documents_both_parts_and_its_503_and_every_route_its_error_envelope(
    spec: dict[str, Any], client: FlaskClient
) -> None:
    health = spec["paths"]["/api/v1/health"]["get"]["responses"]
    assert health["503"] == {"$ref": "#/components/responses/SERVICE_UNAVAILABLE"}
    schema = spec["components"]["schemas"]["Health"]
    assert {"status", "time", "database", "device_link"} <= set(schema["required"])
    assert set(client.get("/api/v1/health").json) == set(schema["properties"])
    # A database outage can answer any route 503: every operation documents the envelope.
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation["responses"]["default"] == {
                "$ref": "#/components/responses/DEFAULT_ERROR"
            }, (path, method)
    assert "database_unavailable" in spec["info"]["description"]


def test_documentation_only_decorators_document_without_wrapping_the_view() -> None:
    from kiosk.api.blueprint import api_blueprint

    blp = api_blueprint("api_doc_only", "/doc-only", "Documentation only")

    def view(answer: int = 42, *, twice: bool = False) -> int:
        """The answer."""
        return answer * 2 if twice else answer

    documented = blp.doc(summary="Ask")(blp.alt_response(404, response="NOT_FOUND")(view))
    assert documented.__code__ is view.__code__
    assert documented(twice=True) == 84 and documented.__doc__ == "The answer."
    assert documented._apidoc["manual_doc"] == {"summary": "Ask"}
    assert documented._apidoc["response"]["responses"][404]
    assert not hasattr(view, "_apidoc")  # the view itself is left as it was


def test_the_availability_read_still_documents_its_refusals(spec: dict[str, Any]) -> None:
    responses = spec["paths"]["/api/v1/spaces/{space_id}/seats"]["get"]["responses"]
    assert {"200", "401", "403", "404", "422"} <= set(responses)
