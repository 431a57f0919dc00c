"""The catalogues: complete in Chinese, compiled files up to date, every kiosk string in them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "kiosk" / "translations"
# Babel names the zh_CN catalogue's directory zh_Hans_CN (see kiosk/i18n.py).
CATALOGUES = {"zh_CN": "zh_Hans_CN", "en": "en"}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def extracted(method_map: Sequence[tuple[str, str]]) -> Iterator[str | tuple[str, ...]]:
    """The messages ``pybabel extract -F babel.cfg`` finds in ``method_map``'s files, read with
    babel.cfg's options (the template extensions); a template Jinja cannot parse fails the
    test instead of being skipped, as the extractor does by default."""
    with open(ROOT / "babel.cfg") as cfg:
        _map, options = parse_mapping_cfg(cfg)
    jinja_options = {**options["kiosk/templates/**.html"], "silent": "false"}
    options_map = {pattern: jinja_options for pattern, method in method_map if method == "jinja2"}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, options_map=options_map, keywords=KEYWORDS
    ):
        yield message


def load_po(locale: str) -> Catalog:
    with open(TRANSLATIONS / CATALOGUES[locale] / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def _frozen(value: object) -> object:
    # Plural messages come back from .mo files as lists.
    return tuple(value) if isinstance(value, list | tuple) else value


def messages_of(catalog: Catalog) -> dict[object, object]:
    return {_frozen(m.id): _frozen(m.string) for m in catalog if m.id}


def test_every_message_in_the_chinese_catalogue_is_translated() -> None:
    untranslated = [m.id for m in load_po("zh_CN") if m.id and not m.string]
    assert untranslated == []


def test_no_chinese_translation_is_marked_fuzzy() -> None:
    assert [m.id for m in load_po("zh_CN") if m.id and m.fuzzy] == []


@pytest.mark.parametrize("locale", sorted(CATALOGUES))
def test_the_compiled_catalogue_matches_its_po_file(locale: str, tmp_path: Path) -> None:
    po = load_po(locale)
    fresh = tmp_path / "messages.mo"
    with open(fresh, "wb") as f:
        write_mo(f, po)
    with open(fresh, "rb") as f:
        expected = messages_of(read_mo(f))
    with open(TRANSLATIONS / CATALOGUES[locale] / "LC_MESSAGES" / "messages.mo", "rb") as f:
        committed = messages_of(read_mo(f))
    assert committed == expected, "run: .venv/bin/pybabel compile -d kiosk/translations"


@pytest.mark.parametrize("locale", sorted(CATALOGUES))
def test_every_string_of_the_kiosk_pages_is_in_the_catalogue(locale: str) -> None:
    method_map = [
        ("kiosk/touch/**.py", "python"),
        ("kiosk/i18n.py", "python"),
        ("kiosk/templates/touch/**.html", "jinja2"),
        # The resident's own phone (/m) speaks the kiosk's words.
        ("kiosk/mobile/**.py", "python"),
        ("kiosk/calendar_events.py", "python"),
        ("kiosk/templates/mobile/**.html", "jinja2"),
    ]
    found = set(extracted(method_map))
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in load_po(locale) if m.id}
    missing = sorted(str(m) for m in found if (m if isinstance(m, str) else m[0]) not in ids)
    assert missing == [], "extract with babel.cfg, then pybabel update and translate"


@pytest.mark.parametrize("locale", sorted(CATALOGUES))
def test_the_catalogue_names_its_sources_by_paths_in_the_checkout(locale: str) -> None:
    """Relative paths that exist here: never one developer's checkout, never a moved file."""
    paths = {path for message in load_po(locale) for path, _line in message.locations}
    assert paths, "the catalogue names no source at all"
    assert sorted(p for p in paths if Path(p).is_absolute() or not (ROOT / p).is_file()) == []


@pytest.mark.parametrize("locale", sorted(CATALOGUES))
def test_no_message_stands_twice_as_active_and_obsolete(locale: str) -> None:
    """msgfmt --check refuses a catalogue that defines one msgid twice."""
    catalog = load_po(locale)
    assert sorted(str(key) for key in catalog.obsolete if key in catalog) == []
