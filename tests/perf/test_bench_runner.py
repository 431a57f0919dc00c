"""`make bench` judges each benchmark by its last line (bench/run_all.py): against the target
it knows for the bench, or by the bench's own ``ok=`` when the line carries one; a line it
cannot read is a failure, never a pass."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.perf.run_all_module import RUNNER, load_run_all


@pytest.fixture(scope="module")
def run_all() -> ModuleType:
    return load_run_all()


def test_the_ingest_bench_passes_at_its_target_ratio_with_nothing_lost(run_all: ModuleType) -> None:
    line = "ingest_msgs_per_s=25057 ceiling_msgs_per_s=37490 ratio=0.67 lost=0"
    assert run_all.judge("mqtt_ingest", line)[2] is True
    assert run_all.judge("mqtt_ingest", line.replace("ratio=0.67", "ratio=0.64"))[2] is False
    assert run_all.judge("mqtt_ingest", line.replace("lost=0", "lost=1"))[2] is False


def test_the_district_needs_every_one_of_its_four_figures(run_all: ModuleType) -> None:
    good = ("sites=20 devices=400 events_per_s=40 lost=0 doubled=0 p99_command_ms=41 "
            "takeover_s=2.1")  # fmt: skip
    figure, target, met = run_all.judge("district", good)
    assert met is True and "takeover_s=2.1" in figure and "10 s" in target
    for bad in ("lost=0", "doubled=0", "p99_command_ms=41", "takeover_s=2.1"):
        key = bad.split("=")[0]
        worse = {"lost": "lost=3", "doubled": "doubled=1", "p99_command_ms": "p99_command_ms=51",
                 "takeover_s": "takeover_s=none"}[key]  # fmt: skip
        assert run_all.judge("district", good.replace(bad, worse))[2] is False, worse


def test_a_bench_that_judges_itself_is_taken_at_its_word(run_all: ModuleType) -> None:
    line = "name=kiosk_home rps=310 bare_rps=1000 ratio=0.31 target=0.3 ok=yes"
    assert run_all.judge("kiosk_home", line) == ("rps=310 bare_rps=1000 ratio=0.31", "0.3", True)
    assert run_all.judge("api_load", line.replace("ok=yes", "ok=no"))[2] is False


def test_a_missing_or_unknown_contract_line_is_a_failure(run_all: ModuleType) -> None:
    assert run_all.judge("roster_import", "")[2] is False
    assert run_all.judge("command_rtt", "Traceback (most recent call last):")[2] is False
    assert run_all.judge("something_new", "rps=10")[2] is False


def test_every_bench_in_the_folder_has_a_target_or_judges_itself(run_all: ModuleType) -> None:
    # A new bench without either would show as `no` in every `make bench`.
    for name in run_all.benches():
        source = (RUNNER.parent / f"{name}.py").read_text(encoding="utf-8")
        assert name in run_all.TARGETS or "ok=" in source, name
