"""`linli i18n update`: extract every string, merge it into both catalogues, add Chinese, compile.

One command instead of four pybabel steps, holding a file lock so that two people (or two
editor sessions) updating the catalogues at once cannot overwrite each other's entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "kiosk" / "translations"
CHINESE_PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


@contextmanager
def _locked() -> Iterator[None]:
    with open(TRANSLATIONS / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])  # type: ignore[no-untyped-call]


def add_chinese(translations: dict[str, str | list[str]]) -> list[str]:
    """Set the Chinese for each msgid (plural ones take a list); return ids not in the catalogue."""
    with open(CHINESE_PO, "rb") as f:
        catalog = read_po(f, locale="zh_Hans_CN")
    unknown = []
    for msgid, chinese in translations.items():
        message = catalog.get(msgid)
        if message is None:
            unknown.append(msgid)
            continue
        message.string = tuple(chinese) if isinstance(chinese, list) else chinese
        message.flags.discard("fuzzy")
    with open(CHINESE_PO, "wb") as f:
        write_po(f, catalog, width=100)
    return unknown


@click.group("i18n")
def i18n_group() -> None:
    """Translation catalogues (developers)."""


@i18n_group.command("update")
@click.option(
    "--zh",
    "zh_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSON object {"English msgid": "中文"} to add to the Chinese catalogue.',
)
def update(zh_file: Path | None) -> None:
    """Extract, update both catalogues, add Chinese from --zh, compile; list what is missing."""
    translations: dict[str, str | list[str]] = {}
    if zh_file is not None:
        try:
            translations = json.loads(zh_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise click.BadParameter(f"not JSON: {error}", param_hint="--zh") from error
        if not isinstance(translations, dict):
            raise click.BadParameter("expected a JSON object", param_hint="--zh")
    # Run from the checkout, naming it ".": the catalogues' "#:" comments then say
    # kiosk/staff/…, the same on every machine, never the path of one developer's checkout.
    # Obsolete entries are dropped: one that comes back would otherwise stand twice
    # (active and "#~"), which msgfmt --check refuses.
    with _locked(), contextlib.chdir(ROOT):
        pot = "kiosk/translations/messages.pot"
        _pybabel(
            "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
            "--sort-output", "--omit-header", "-o", pot, ".",
        )  # fmt: skip
        _pybabel(
            "update", "-i", pot, "-d", "kiosk/translations", "--no-fuzzy-matching",
            "--ignore-obsolete", "-w", "100",
        )  # fmt: skip
        unknown = add_chinese(translations)
        _pybabel("compile", "-d", str(TRANSLATIONS))
    for msgid in unknown:
        click.echo(f"not in the catalogue (typo, or not used in code yet): {msgid}", err=True)
    with open(CHINESE_PO, "rb") as f:
        missing = [m.id for m in read_po(f) if m.id and not m.string]
    for missing_id in missing:
        click.echo(f"no Chinese yet: {missing_id!r}")
    if missing:
        raise SystemExit(1)
