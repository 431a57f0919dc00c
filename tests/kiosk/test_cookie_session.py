"""The signed-cookie session with its serializer built once: cookies still round-trip, and a
new secret key is used at once (old cookies no longer read, as with Flask's own)."""

from __future__ import annotations

from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface

from kiosk.cookie_session import CachedSerializerSessionInterface


def cookie_app(secret: str) -> Flask:
    app = Flask(__name__)
    app.secret_key = secret
    app.session_interface = CachedSerializerSessionInterface()

    @app.post("/remember/<word>")
    def remember(word: str) -> str:
        session["word"] = word
        return "ok"

    @app.get("/recall")
    def recall() -> str:
        return str(session.get("word", "-"))

    return app


def test_the_app_uses_the_cached_serializer_session(app: Flask) -> None:
    assert isinstance(app.session_interface, CachedSerializerSessionInterface)


def test_a_session_cookie_round_trips_and_reads_as_flasks_own_would() -> None:
    app = cookie_app("first secret")
    client = app.test_client()
    client.post("/remember/lamp")

    assert client.get("/recall").text == "lamp"
    cookie = client.get_cookie("session")
    assert cookie is not None
    flasks = SecureCookieSessionInterface().get_signing_serializer(app)
    assert flasks is not None and flasks.loads(cookie.value) == {"word": "lamp"}


def test_a_changed_secret_key_is_used_at_once_and_old_cookies_stop_reading() -> None:
    app = cookie_app("first secret")
    client = app.test_client()
    client.post("/remember/lamp")

    app.secret_key = "second secret"

    assert client.get("/recall").text == "-"
    client.post("/remember/chair")
    cookie = client.get_cookie("session")
    assert cookie is not None
    second = SecureCookieSessionInterface().get_signing_serializer(app)
    assert second is not None and second.loads(cookie.value) == {"word": "chair"}
