"""Languages: Chinese first, English second, chosen by the resident and kept in the session.

Locales are named ``zh_CN`` and ``en`` everywhere in config and session. Babel expands
``zh_CN`` to ``zh_Hans_CN`` (CLDR adds the script) and looks the catalogue up by that name,
so the Chinese catalogue lives in ``kiosk/translations/zh_Hans_CN``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from types import SimpleNamespace
from typing import Any

import flask_babel
from babel import Locale, support
from flask import Flask, Request, current_app, g, has_app_context, session
from flask_babel import Babel, get_locale, get_translations, refresh
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from wtforms.i18n import messages_path

babel = Babel()

SESSION_KEY = "locale"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=_selected_locale)
    app.request_class = FormWordsRequest
    # Every Flask-Babel function finds its per-request state through this name.
    flask_babel._get_current_context = babel_namespace

    @app.context_processor
    def _language_context() -> dict[str, object]:
        return {
            "html_lang": html_lang(),
            "current_locale": select_locale(),
            **template_gettext(),
        }


# WTForms' own messages ("Not a valid choice", a field's "This field is required") per
# language, each catalogue read once for the process.
_WTFORMS_CATALOGUES: dict[str, support.Translations] = {}


class FormWordsRequest(Request):
    """Flask's request, with WTForms' catalogue for the request's language already read.

    Flask-WTF reads that catalogue from its file on every request that draws or checks a
    form (``babel.support.Translations.load``, the ``.mo`` parsed anew: a seventh of the CPU
    of a console page with one small form, docs/benchmarks.md) and keeps it as the request's
    ``wtforms_translations``, asking for that attribute first. Giving it here serves Flask-WTF
    the catalogue it would have read, parsed once a language for the process.
    """

    @cached_property
    def wtforms_translations(self) -> support.Translations | None:
        locale = get_locale()
        if locale is None:
            return None  # Flask-WTF then reads it as before
        key = str(locale)
        found = _WTFORMS_CATALOGUES.get(key)
        if found is None:
            loaded = support.Translations.load(messages_path(), [locale], domain="wtforms")
            found = _WTFORMS_CATALOGUES[key] = loaded  # type: ignore[assignment]
        return found


def babel_namespace() -> SimpleNamespace | None:
    """Flask-Babel's per-request namespace (``g._flask_babel``), found with one context lookup.

    Flask-Babel looks it up for every translated word, lazy string and locale it is asked
    for, through three lookups of the ``g`` proxy (``not g``, ``hasattr``, the attribute):
    on the kiosk home's 8 lazily translated service names and its other words, 30 lookups a
    request, a lazy string cost 8.4 µs where 2.9 µs do (docs/benchmarks.md). This is the
    same function, the same namespace, with the context found once; it replaces Flask-Babel's
    ``_get_current_context``, which every one of its functions calls by that name.
    """
    if not has_app_context():
        return None
    app_globals = g._get_current_object()
    try:
        namespace: SimpleNamespace = app_globals._flask_babel
    except AttributeError:
        namespace = app_globals._flask_babel = SimpleNamespace()
    return namespace


def template_gettext() -> dict[str, Callable[..., str]]:
    """``gettext`` and ``ngettext`` for one render, bound to this request's catalogue.

    Flask-Babel installs callables that look the catalogue up again on every call (the
    request context, the locale, the domain: a quarter of the kiosk home's CPU for its dozen
    words, docs/benchmarks.md). A template resolves ``_``, ``gettext`` and ``ngettext`` (and
    ``{% trans %}``) from its context before the environment's globals, so these are used
    where a page's context reaches, and Flask-Babel's elsewhere (macros imported without
    context). They do what Jinja's newstyle gettext does (jinja2.ext._make_new_gettext):
    autoescape-aware Markup, and the text always %-formatted with the keyword variables.
    """
    translations = get_translations()
    find, find_plural = translations.ugettext, translations.ungettext

    @pass_context
    def gettext(context: Context, string: str, /, **variables: Any) -> str:
        found = find(string)
        if context.eval_ctx.autoescape:
            found = Markup(found)
        return found % variables  # type: ignore[no-any-return]

    @pass_context
    def ngettext(
        context: Context, singular: str, plural: str, num: int, /, **variables: Any
    ) -> str:
        variables.setdefault("num", num)
        found = find_plural(singular, plural, num)
        if context.eval_ctx.autoescape:
            found = Markup(found)
        return found % variables  # type: ignore[no-any-return]

    return {"gettext": gettext, "ngettext": ngettext}


def languages() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def select_locale() -> str:
    """The resident's choice if it is one we speak, else the site default (zh_CN)."""
    chosen = session.get(SESSION_KEY)
    if isinstance(chosen, str) and chosen in languages():
        return chosen
    default: str = current_app.config["BABEL_DEFAULT_LOCALE"]
    return default


# Each language parsed once for the process: Flask-Babel parses what the selector gives on
# every request (Locale.parse, 15 µs of a kiosk page), and takes a Locale as it is.
_PARSED: dict[str, Locale] = {}


def _selected_locale() -> Locale:
    """:func:`select_locale`, parsed (Flask-Babel's locale selector)."""
    name = select_locale()
    found = _PARSED.get(name)
    if found is None:
        found = _PARSED[name] = Locale.parse(name)
    return found


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
