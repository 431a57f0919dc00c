"""What docs/operations.md tells an operator to set, read as the worker reads it: the restore
drill's empty broker URL, and the retention periods."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.retention import RetentionPeriods
from devices.sharing import Role
from kiosk import config, create_app
from kiosk.cli import main
from kiosk.worker import Worker

OPERATIONS = Path(__file__).parents[2] / "docs" / "operations.md"


@pytest.fixture(autouse=True)
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every app made here keeps its instance folder in the test's own directory."""
    monkeypatch.setenv("LINLI_INSTANCE_PATH", str(tmp_path / "instance"))
    return tmp_path / "instance"


def drill_commands() -> str:
    guide = OPERATIONS.read_text()
    section = guide.split("### The monthly restore drill", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert found, "the drill has no commands"
    return found.group(1)


def test_the_drill_runs_its_worker_with_an_empty_broker_url_and_not_the_production_env() -> None:
    commands = drill_commands()
    assert re.search(r"(?m)^\s*LINLI_MQTT_URL= \\$", commands)
    assert "env -i" in commands  # nothing inherited from a shell that loaded /etc/linli/env
    assert "/etc/linli/env" not in commands
    assert commands.index("LINLI_MQTT_URL=") < commands.index("worker")


class Bridge:
    def __init__(self) -> None:
        self.started = threading.Event()

    def __call__(
        self, database: Database, url: str, site: str, stop: threading.Event, role: Role
    ) -> None:
        self.started.set()
        stop.wait()


def test_a_worker_given_the_drills_empty_broker_url_runs_its_jobs_without_a_bridge(
    database: Database,
    clock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LINLI_MQTT_URL", "")
    app = create_app({"SECRET_KEY": "drill", "DATABASE_URL": database.url})
    assert app.config["MQTT_URL"] == ""
    bridge = Bridge()
    worker = Worker(database, clock, mqtt_url=app.config["MQTT_URL"], site="xinhua", bridge=bridge)
    stop = threading.Event()
    status: list[int] = []
    thread = threading.Thread(target=lambda: status.append(worker.run(stop)), daemon=True)
    thread.start()
    try:
        assert not bridge.started.wait(1.5)
    finally:
        stop.set()
        thread.join(10)
    assert status == [0]


# --- retention periods -------------------------------------------------------------------------


def test_the_retention_periods_are_the_operators(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINLI_DEVICE_MESSAGES_RETENTION_DAYS", "7")
    monkeypatch.setenv("LINLI_SESSIONS_RETENTION_DAYS", "365")
    monkeypatch.setenv("LINLI_DEAD_LETTERS_RETENTION_DAYS", "30")
    app = create_app({"SECRET_KEY": "x"})
    assert config.retention_periods(app.config) == RetentionPeriods(
        device_messages=timedelta(days=7),
        device_commands=timedelta(days=90),
        sessions=timedelta(days=365),
        dead_letters=timedelta(days=30),
    )


@pytest.mark.parametrize(
    ("setting", "value", "shown"),
    [
        ("DEVICE_MESSAGES_RETENTION_DAYS", "0", "0"),
        ("DEVICE_COMMANDS_RETENTION_DAYS", "-5", "-5"),
        ("SESSIONS_RETENTION_DAYS", "3651", "3651"),
        ("SESSIONS_RETENTION_DAYS", "thirty", "'thirty'"),
        ("DEVICE_MESSAGES_RETENTION_DAYS", "1.5", "1.5"),
        ("DEVICE_MESSAGES_RETENTION_DAYS", "true", "True"),
        ("DEVICE_MESSAGES_RETENTION_DAYS", "", "''"),
    ],
)
def test_a_retention_period_that_is_not_whole_days_in_range_is_refused_by_name(
    setting: str, value: str, shown: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"LINLI_{setting}", value)
    app = create_app({"SECRET_KEY": "x"})
    with pytest.raises(config.ConfigError) as refused:
        config.retention_periods(app.config)
    assert str(refused.value) == (
        f"LINLI_{setting} must be a whole number of days from 1 to 3650, not {shown}"
    )


def test_the_worker_will_not_start_with_a_bad_retention_period(
    runner: FlaskCliRunner,
) -> None:
    runner.app.config["SESSIONS_RETENTION_DAYS"] = "thirty"
    result = runner.invoke(main, args=["worker", "--no-wait"])
    assert result.exit_code == 1
    assert (
        "Error: LINLI_SESSIONS_RETENTION_DAYS must be a whole number of days from 1 to 3650, "
        "not 'thirty'" in result.output
    )


def test_the_worker_will_not_start_with_a_wrong_sms_setting(
    runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINLI_SMS_PROVIDER", "tencent")
    monkeypatch.setenv("LINLI_SMS_SECRET_ID", "AKID-test")
    result = runner.invoke(main, args=["worker", "--no-wait"])
    assert result.exit_code == 1
    assert "Error: LINLI_SMS_PROVIDER=tencent needs LINLI_SMS_SECRET_KEY" in result.output
