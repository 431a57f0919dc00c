"""Werkzeug's URL builders compiled once per test process, not once per app.

Every test that makes an app (most of the suite) had Werkzeug generate and compile two
Python functions for each of the app's 245 URL rules: 45 of the 90 ms ``create_app`` took.
A production process makes its app once, so this is the suite's cost alone, and it is paid
here alone. A builder is a pure function of what it is keyed on below: the rule's parsed
parts, its defaults as their converters write them into the URL, and whether it appends
unknown arguments; it reads the rule's converters through its first argument when called,
so one compiled for one app's rule serves the same rule of the next app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing.rules import Rule

_compile_builder = Rule._compile_builder
_built: dict[tuple[Any, ...], Callable[..., tuple[str, str]]] = {}


def _builder_once(self: Rule, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
    defaults = self.defaults or {}
    key = (
        self.rule,
        tuple(self._trace),
        tuple(
            (name, self._converters[name].to_url(value) if name in self._converters else None)
            for name, value in defaults.items()
        ),
        append_unknown,
    )
    builder = _built.get(key)
    if builder is None:
        builder = _built[key] = _compile_builder(self, append_unknown)
    return builder


def compile_once() -> None:
    Rule._compile_builder = _builder_once  # type: ignore[method-assign]
