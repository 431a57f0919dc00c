"""The catalogues as gettext itself reads them: `msgfmt --check` passes on both, as CI checks.

Babel compiles what msgfmt refuses (a msgid defined twice, a header it cannot parse), so the
Babel-based tests beside this one are not enough: a translator's tools, and any packager
who compiles with gettext, run msgfmt.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.kiosk.test_kiosk_translations import CATALOGUES, TRANSLATIONS, load_po

MSGFMT = shutil.which("msgfmt")
SKIP_NO_MSGFMT = "gettext's msgfmt not installed (apt install gettext; CI has it)"


@pytest.mark.parametrize("locale", sorted(CATALOGUES))
def test_msgfmt_check_accepts_the_catalogue(locale: str, tmp_path: Path) -> None:
    if MSGFMT is None:
        # The word "gettext" makes LINLI_CI_REQUIRE_ALL turn this skip into a failure in CI.
        pytest.skip(SKIP_NO_MSGFMT)
    po = TRANSLATIONS / CATALOGUES[locale] / "LC_MESSAGES" / "messages.po"
    result = subprocess.run(
        [MSGFMT, "--check", "-o", str(tmp_path / "messages.mo"), str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("locale", sorted(CATALOGUES))
def test_no_location_comment_is_an_absolute_path(locale: str) -> None:
    """A `#:` line naming /home/someone/linli/… changes with every checkout and leaks it."""
    po = TRANSLATIONS / CATALOGUES[locale] / "LC_MESSAGES" / "messages.po"
    absolute = [
        line
        for line in po.read_text(encoding="utf-8").splitlines()
        if line.startswith("#:") and any(Path(ref).is_absolute() for ref in line[2:].split())
    ]
    assert absolute == []
    assert all(not Path(path).is_absolute() for m in load_po(locale) for path, _ in m.locations)
