"""CI turns a skip for a missing service into a failure, and leaves other skips alone."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SUITE = """
import pytest

def test_needs_the_database():
    pytest.skip("PostgreSQL not configured: set LINLI_TEST_DATABASE_URL (CI does)")

def test_skipped_for_another_reason():
    pytest.skip("only meaningful on Windows")
"""


def run_with_our_conftest(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, require_all: bool
) -> pytest.RunResult:
    conftest = Path(__file__).parent.parent / "conftest.py"
    pytester.makeconftest(conftest.read_text())
    pytester.makepyfile(test_services=SUITE)
    if require_all:
        monkeypatch.setenv("LINLI_CI_REQUIRE_ALL", "1")
    else:
        monkeypatch.delenv("LINLI_CI_REQUIRE_ALL", raising=False)
    return pytester.runpytest("-p", "no:cacheprovider")


def test_a_skip_for_a_missing_service_fails_in_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_with_our_conftest(pytester, monkeypatch, require_all=True)
    result.assert_outcomes(failed=1, skipped=1)


def test_a_skip_for_a_missing_service_is_only_a_skip_outside_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_with_our_conftest(pytester, monkeypatch, require_all=False)
    result.assert_outcomes(skipped=2)
