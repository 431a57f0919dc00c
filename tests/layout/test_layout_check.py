"""The layout rules (tools/layout_check.py) flag what breaks them and pass what keeps them,
on small trees made for each rule; and the real tree breaks none beyond its baseline."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("layout_check", ROOT / "tools/layout_check.py")
assert _spec is not None and _spec.loader is not None
layout_check = importlib.util.module_from_spec(_spec)
sys.modules["layout_check"] = layout_check
_spec.loader.exec_module(layout_check)


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def rules_broken(root: Path, **kwargs: object) -> list[tuple[str, str]]:
    return [(p.rule, p.where) for p in layout_check.check(root, **kwargs)]


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "booking/__init__.py": "",
        "booking/core/__init__.py": "",
        "booking/core/db.py": "import sqlalchemy\n",
        "booking/lending/__init__.py": "",
        "booking/lending/models/__init__.py": "",
        "booking/lending/models/loans.py":
            "class Loan:\n    def close(self):\n        self.status = 'closed'\n",
        "booking/lending/operations.py": "from booking.core import db\n",
        "devices/__init__.py": "",
        "devices/bridge.py": "import paho\nfrom booking.lending import operations\n",
        "kiosk/__init__.py": "from flask import Flask\nimport devices.bridge\n",
        "kiosk/outage.py": "from kiosk import errors\n",
        "kiosk/errors.py": "",
    })  # fmt: skip
    assert rules_broken(root) == []


def test_a_file_over_the_limit_is_flagged(tmp_path: Path) -> None:
    root = tree(tmp_path, {"booking/__init__.py": "", "booking/big.py": "x = 1\n" * 11})
    assert rules_broken(root, max_lines=10) == [("size", "booking/big.py")]
    assert rules_broken(root, max_lines=11) == []


def test_an_import_circle_is_flagged_with_its_path(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "booking/__init__.py": "",
        "booking/a.py": "from booking import b\n",
        "booking/b.py": "def late():\n    import booking.c\n",  # a function-level import counts
        "booking/c.py": "from booking.a import thing\n",
    })  # fmt: skip
    problems = layout_check.check(root)
    assert [p.rule for p in problems] == ["cycles"]
    assert (
        problems[0].what == "imports in a circle: booking.a -> booking.b -> booking.c -> booking.a"
    )


def test_imports_for_type_checking_only_make_no_circle(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "booking/__init__.py": "",
        "booking/a.py": "from booking import b\n",
        "booking/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from booking import a\n",
    })  # fmt: skip
    assert rules_broken(root) == []


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("booking/x.py", "import flask\n"),
        ("booking/x.py", "from paho.mqtt import client\n"),
        ("booking/x.py", "from devices import bridge\n"),
        ("booking/x.py", "import kiosk.worker\n"),
        ("devices/x.py", "from kiosk import worker\n"),
        ("firmware-sim/linli_sim/x.py", "from booking.core import clock\n"),
    ],
)
def test_a_layer_importing_what_it_must_not_is_flagged(
    tmp_path: Path, path: str, source: str
) -> None:
    root = tree(tmp_path, {path: source})
    assert rules_broken(root) == [("layers", path)]


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("booking/lending/operations.py", "def close(loan):\n    loan.status = 'closed'\n"),
        ("booking/lending/models/loans.py", "loan.status = 'closed'\n"),  # not in a method
        ("devices/x.py", "def f(c):\n    c.status: str = 'sent'\n"),
        ("devices/commands/x.py", "def f(command):\n    command.state = 'sent'\n"),
    ],
)
def test_status_assigned_outside_a_models_method_is_flagged(
    tmp_path: Path, path: str, source: str
) -> None:
    root = tree(tmp_path, {path: source})
    assert [rule for rule, _ in rules_broken(root)] == ["status"]


def test_the_baseline_lets_known_problems_stay_and_fails_new_and_fixed_ones(
    tmp_path: Path,
) -> None:
    root = tree(tmp_path, {"booking/big.py": "x = 1\n" * 11, "booking/ok.py": ""})
    problems = layout_check.check(root, max_lines=10)
    assert layout_check.against_baseline(problems, ["size booking/big.py"]) == []
    assert layout_check.against_baseline(problems, []) == [
        "booking/big.py: [size] 11 lines (at most 10) (not in the baseline)"
    ]
    fixed = layout_check.against_baseline([], ["size booking/big.py"])
    assert fixed == ["fixed: 'size booking/big.py' (x1): delete it from the baseline"]


def test_the_project_breaks_no_layout_rule_beyond_its_baseline() -> None:
    problems = layout_check.check(ROOT)
    baseline = layout_check.read_baseline(ROOT / "tools/layout_baseline.txt")
    assert layout_check.against_baseline(problems, baseline) == []


@pytest.mark.parametrize(
    "kinds",
    [
        ("linli_sim.locker", "linli_sim.bp_terminal"),
        ("devices.locker", "devices.bp_terminal"),
    ],
)
def test_device_kinds_depend_on_a_shared_core_never_on_each_other(
    kinds: tuple[str, str],
) -> None:
    mods = list(layout_check.modules(ROOT))
    graph = layout_check._graph(mods, {module.name for module in mods})

    def under(kind: str) -> set[str]:
        return {name for name in graph if name == kind or name.startswith(kind + ".")}

    first, second = (under(kind) for kind in kinds)
    assert first and second
    assert not any(graph[name] & second for name in first)
    assert not any(graph[name] & first for name in second)


@pytest.mark.parametrize("source", [
    "import psycopg\n",
    "import sqlite3\n",
    "from sqlalchemy import create_engine\nengine = create_engine('sqlite://')\n",
    "from sqlalchemy.orm import Session\ndef f(c):\n    return Session(bind=c)\n",
    "def f(c):\n    c.exec_driver_sql('DELETE FROM loans')\n",
])  # fmt: skip
def test_a_way_to_the_database_beside_the_database_is_flagged(tmp_path: Path, source: str) -> None:
    root = tree(tmp_path, {"booking/__init__.py": "", "booking/lending.py": source})
    assert [rule for rule, _where in rules_broken(root)] == ["database"]


def test_the_documented_doors_to_the_database_may_open_it(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "booking/__init__.py": "",
        "booking/core/__init__.py": "",
        "booking/core/db.py": "from sqlalchemy import create_engine\ne = create_engine('x')\n",
        "booking/core/driver_sql.py": "def f(c):\n    c.exec_driver_sql('SELECT 1')\n",
        "booking/lending.py": "from booking.core.db import Database\n",
    })  # fmt: skip
    assert rules_broken(root) == []
