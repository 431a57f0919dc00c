"""Broker settings the round trip depends on, in the demo's generated config and in deploy/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEPLOY_CONFIG = Path(__file__).parents[2] / "deploy" / "mosquitto" / "mosquitto.conf"


def directives(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")}


def test_the_demo_broker_runs_with_nagle_off_towards_clients(own_mosquitto: Any) -> None:
    # Started means Mosquitto accepted the option; without it a reply relayed right after
    # another waits for the client's delayed ACK (40 ms).
    assert "set_tcp_nodelay true" in directives(own_mosquitto.config_path.read_text())


def test_the_production_broker_config_turns_nagle_off() -> None:
    assert "set_tcp_nodelay true" in directives(DEPLOY_CONFIG.read_text())
