"""Languages: Chinese first, English second, chosen by the resident and kept in the session.

Locales are named ``zh_CN`` and ``en`` everywhere in config and session. Babel expands
``zh_CN`` to ``zh_Hans_CN`` (CLDR adds the script) and looks the catalogue up by that name,
so the Chinese catalogue lives in ``kiosk/translations/zh_Hans_CN``.
"""

from __future__ import annotations

from flask import Flask, current_app, session
from flask_babel import Babel, get_locale, refresh

babel = Babel()

SESSION_KEY = "locale"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def _language_context() -> dict[str, object]:
        return {"html_lang": html_lang(), "current_locale": select_locale()}


def languages() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def select_locale() -> str:
    """The resident's choice if it is one we speak, else the site default (zh_CN)."""
    chosen = session.get(SESSION_KEY)
    if isinstance(chosen, str) and chosen in languages():
        return chosen
    default: str = current_app.config["BABEL_DEFAULT_LOCALE"]
    return default


def choose_locale(locale: str) -> bool:
    """Remember ``locale`` for this browser; False (and nothing changes) if we do not speak it."""
    if locale not in languages():
        return False
    session[SESSION_KEY] = locale
    return True


def language_chosen() -> bool:
    """True while this browser speaks a language other than the site default."""
    default: str = current_app.config["BABEL_DEFAULT_LOCALE"]
    return select_locale() != default


def forget_locale() -> None:
    """Back to the site default (Chinese): the next person at a shared kiosk starts there.

    The rest of this request speaks the default too (Flask-Babel caches the locale per request).
    """
    if session.pop(SESSION_KEY, None) is not None:
        refresh()


def html_lang() -> str:
    """The BCP 47 tag for ``<html lang>``: zh_CN → zh-CN, so screen readers pick the right voice."""
    locale = get_locale()
    if locale is None:
        return str(current_app.config["BABEL_DEFAULT_LOCALE"]).replace("_", "-")
    return f"{locale.language}-{locale.territory}" if locale.territory else locale.language
