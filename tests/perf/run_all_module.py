"""bench/run_all.py (what `make bench` runs) loaded as a module, for the tests that read its
list of benches and its judging of their last lines."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

RUNNER = Path(__file__).resolve().parents[2] / "bench" / "run_all.py"
NAME = "bench_run_all"


def load_run_all() -> ModuleType:
    """The module, loaded once per process."""
    loaded = sys.modules.get(NAME)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(NAME, RUNNER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module
