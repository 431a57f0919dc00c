# Linli: `make demo` runs a whole demo centre; `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint install ci mosquitto-config

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Everything a fresh machine with only python3 needs: the venv, the schema, the demo centre,
# its devices and a broker; then web, worker and simulator until Ctrl-C (LINLI_PORT to move it).
demo: $(STAMP)
	$(BIN)/linli demo

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# What CI runs: PostgreSQL, Mosquitto and Chromium made available, then every test, no skips.
ci:
	.ci/run

# Regenerate the broker's password file and ACL from the device registry (OUT=/etc/mosquitto/linli).
OUT ?= instance/mosquitto
mosquitto-config: $(STAMP)
	$(BIN)/linli devices mosquitto-config --out $(OUT)
