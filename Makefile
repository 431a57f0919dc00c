# Linli: `make demo` runs a whole demo centre; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-clock-shifted lint layout install ci mosquitto-config bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Everything a fresh machine with only python3 needs: the venv, the schema, the demo centre,
# its devices and a broker; then web, worker and simulator until Ctrl-C (LINLI_PORT to move it).
# DISTRICT=1: three centres of one district on one server instead (one web port: a browser
# becomes another centre's kiosk screen from the console; docs/operations.md, "Demo and CI").
demo: $(STAMP)
	$(BIN)/linli demo $(if $(DISTRICT),--district)

# Three processes on CI's two cores: the tests wait on brokers, subprocesses and the browser
# for much of their time, so a third fills the cores (3,796 tests: 931 s with two, 791 with
# three, 779 with four); each test has its own database schema and MQTT site slug
# (tests/conftest.py). TEST_WORKERS=0 runs in one.
TEST_WORKERS ?= 3

test: $(STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS)

# The lending and device tests again with the system clock 400 days ahead (libfaketime), so a
# test that quietly depends on today's date fails now rather than next month. The build of
# libfaketime comes from the `libfaketime` package on PyPI: Debian bookworm's 0.9.10 either
# hangs Python 3.11's timed waits (it does not intercept sem_clockwait) or, with the monotonic
# clock left alone, fails its time.sleep with EINVAL (libfaketime issue #426). The monotonic
# clock is left alone because timeouts count on it, not on the calendar.
#
# On SQLite only: every moment the code stores comes from its Python clock (no SQL now()
# anywhere), so a test's dependence on today's date shows there as it would on PostgreSQL,
# and the PostgreSQL half (the several-worker processes among it) took half of its three
# minutes of CI's twenty.
test-clock-shifted: $(STAMP)
	eval "$$($(BIN)/python-libfaketime)" && FAKETIME="+400d" $(BIN)/pytest -n $(TEST_WORKERS) -m "not postgres" tests/lending tests/devices

lint: $(STAMP) layout
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The layout rules of docs/architecture.md: file size, import cycles, layers, and state set only
# by models. tools/layout_baseline.txt lists what is still to fix; it may only shrink.
layout:
	$(PYTHON) tools/layout_check.py --baseline tools/layout_baseline.txt

# What CI runs: PostgreSQL, Mosquitto and Chromium made available, then every test, no skips.
ci:
	.ci/run

# Every benchmark in bench/, one after another at quick settings, one line each: its figure,
# its target, ok or no (bench/run_all.py; full output in instance/bench/). They need Mosquitto
# and, for the district and several others, PostgreSQL (LINLI_TEST_DATABASE_URL). Give them
# the machine: they measure time, and other work on the cores moves the figures.
bench: $(STAMP)
	$(BIN)/python bench/run_all.py $(BENCHES)

# Regenerate the broker's password file and ACL from the device registry (OUT=/etc/mosquitto/linli).
OUT ?= instance/mosquitto
mosquitto-config: $(STAMP)
	$(BIN)/linli devices mosquitto-config --out $(OUT)
