"""docs/operations.md, "First day", followed literally: from an empty PostgreSQL database and a
Mosquitto with no accounts to a first loan through a locker provisioned in the console, with
no demo code anywhere.

Every line of the section's ``sh`` blocks is run in order, each by what it stands for here
(``STEPS``): the ``linli`` and ``linli-sim`` commands as they are written, with only the
machine's paths and host names swapped for this test's; the host's own steps (copy a file,
restart a service) by their equivalent on a test machine. A line the table does not know fails
the test, so the page cannot gain a step this test skips. The console and kiosk steps between
the blocks are done over HTTP, as staff and a resident would with a browser.
"""

from __future__ import annotations

import html
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from booking.lending.models.loans import Loan, LoanStatus
from booking.people.models.residents import Resident
from devices.fleet.provisioning import SERVER_USERNAME
from kiosk import create_app, mqtt_config
from kiosk.broker import free_port, mosquitto_binary
from kiosk.extensions import database
from tests.conftest import POSTGRES_URL, SKIP_NO_POSTGRES, _postgres_schema_url

pytestmark = [pytest.mark.postgres, pytest.mark.mosquitto]

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "docs" / "operations.md"
SECTION = "## First day: a centre from nothing"
ADMIN_PASSWORD = "a long enough passphrase for sunli"
RESIDENT_PHONE = "13912345678"
RESIDENT_PIN = "258147"
WAIT_S = 30.0
DUMPED_TABLES = ("device_commands", "device_messages", "device_compartments",
                 "device_dead_letters", "door_sessions", "lending_events", "items", "loans")  # fmt: skip


def section_commands() -> list[str]:
    """Every command line of the section's ``sh`` blocks, in order."""
    text = OPERATIONS.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    blocks = re.findall(r"```sh\n(.*?)```", text[start:end], flags=re.S)
    return [
        line.strip()
        for block in blocks
        for line in block.replace("\\\n", " ").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def wait_until(condition: Callable[[], Any], what: str, machine: Machine) -> Any:
    deadline = time.monotonic() + WAIT_S
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{machine.logs()}")
        time.sleep(0.1)


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', page
    )
    assert found, "the page has no CSRF token"
    return found.group(1)


def submit(client: FlaskClient, url: str, expect: int | None = None, **data: str) -> str:
    """Open ``url``, fill in ``data`` and send the form, as a person does; it is taken when
    the answer is ``expect``, or a redirect onwards when that is not given."""
    token = csrf(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, **data})
    body = response.get_data(as_text=True)
    taken = response.status_code == expect if expect else response.status_code in (302, 303)
    assert taken, (url, response.status_code, body[-2000:])
    return body


@dataclass
class Machine:
    """The operator's machine, made of this test's own processes and folders."""

    tmp: Path
    env: dict[str, str]
    broker_port: int
    server_port: int
    server_password: str
    broker: mqtt_config.DynsecBroker | None = None
    worker: subprocess.Popen[bytes] | None = None
    sim: subprocess.Popen[bytes] | None = None
    app: Flask | None = None
    sheet_command: str = ""
    slip_code: str = ""

    def path(self, text: str) -> str:
        """The operator's paths, moved into this test's folder."""
        return text.replace("/var/lib/mosquitto/", f"{self.tmp}/mosquitto/")

    def linli(self, args: list[str], stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-c", "from kiosk.cli import main; main()", *args],
            env=self.env, input=stdin, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def log(self, name: str) -> IO[bytes]:
        """A file for a process's output, so a test that times out can show what it said."""
        return (self.tmp / f"{name}.log").open("wb")

    def logs(self) -> str:
        tails = []
        for name in ("worker", "sim"):
            path = self.tmp / f"{name}.log"
            if path.exists():
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
                tails.append(f"--- the last of {name}.log ---\n" + "\n".join(lines[-40:]))
        if self.app is not None:
            # What the locker said and what the server made of it: a timeout then shows where
            # the loan stopped (no command, no reply, no door event, no loan).
            with self.app.app_context(), database().read() as session:
                for table in DUMPED_TABLES:
                    rows = session.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
                    tails.append(f"--- {table} ---\n" + "\n".join(map(str, rows)))
        return "\n".join(tails)

    def stop(self) -> None:
        for process in (self.sim, self.worker):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
        if self.app is not None:
            with self.app.app_context():
                database().dispose()
        if self.broker is not None:
            self.broker.stop()


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Machine]:
    plugin = mqtt_config.dynsec_plugin()
    if not POSTGRES_URL:
        pytest.skip(SKIP_NO_POSTGRES)
    if mosquitto_binary() is None or plugin is None:
        pytest.skip("Mosquitto with its dynamic security plugin is not installed")
    for url in _postgres_schema_url(POSTGRES_URL):
        server_password = "server-password-of-the-first-day"
        broker_port, server_port = free_port(), free_port()
        (tmp_path / "mosquitto").mkdir()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "firmware-sim")]),
            # The env file of the section.
            "LINLI_DATABASE_URL": url,
            "LINLI_SITE": "yongsheng",
            "LINLI_BROKER_ACCOUNTS": "dynsec",
            "LINLI_MQTT_URL": (
                f"mqtt://{SERVER_USERNAME}:{server_password}@127.0.0.1:{server_port}"
            ),
            "LINLI_DEVICE_BROKER_URL": f"mqtt://127.0.0.1:{broker_port}",
            # From "Install".
            "LINLI_SECRET_KEY": "f" * 64,
            "LINLI_INSTANCE_PATH": str(tmp_path / "instance"),
        }
        machine = Machine(tmp_path, env, broker_port, server_port, server_password)
        try:
            yield machine
        finally:
            machine.stop()


# --- what each line of the section stands for here ---------------------------------------------


def staff_create(machine: Machine, args: list[str]) -> None:
    # The password is typed twice at the prompt, never on the command line.
    out = machine.linli(args, stdin=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")
    assert "created admin sunli at yongsheng" in out
    assert ADMIN_PASSWORD not in out


def restart_mosquitto(machine: Machine, args: list[str]) -> None:
    # The broker of deploy/mosquitto/mosquitto-dynsec.conf (the plugin, its file, the two
    # listeners; tests/ops/test_dynsec_provisioning.py checks those lines are the same), on
    # this test's ports, reading the accounts file `dynsec-init` wrote.
    plugin = mqtt_config.dynsec_plugin()
    assert plugin is not None
    data = machine.tmp / "mosquitto"
    machine.broker = mqtt_config.DynsecBroker(
        data / "broker", data / "dynamic-security.json", plugin,
        port=machine.broker_port, server_port=machine.server_port,
    ).start()  # fmt: skip


def copy_config(machine: Machine, args: list[str]) -> None:
    assert (ROOT / args[1]).is_file(), args[1]


def start_web_and_worker(machine: Machine, args: list[str]) -> None:
    units = ROOT / "deploy" / "systemd"
    worker_unit = (units / "linli-worker.service").read_text()
    assert re.search(r"^ExecStart=\S*/linli worker$", worker_unit, re.M)
    assert "'kiosk:create_app()'" in (units / "linli-web.service").read_text()
    with machine.log("worker") as output:
        machine.worker = subprocess.Popen(
            [sys.executable, "-c", "from kiosk.cli import main; main()", "worker"],
            env=machine.env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    # The web: the app gunicorn serves, built from the same environment.
    saved = dict(os.environ)
    os.environ.update(machine.env)
    try:
        machine.app = create_app()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    console_steps(machine)


def run_sim(machine: Machine, args: list[str]) -> None:
    line = shlex.join(args)
    # The page's line is the sheet's, with the placeholders the sheet fills in.
    expected = (
        machine.sheet_command.replace(
            f"127.0.0.1:{machine.broker_port}", "BROKER-HOST:1883"
        ).replace(sheet_password(machine.sheet_command), "PASSWORD-FROM-THE-SHEET")
        + " --auto-person"
    )
    assert shlex.split(line) == shlex.split(expected), (line, expected)
    state = machine.tmp / "locker-1-state"
    run = shlex.split(machine.sheet_command) + ["--auto-person", "--no-console"]
    run = [str(state) if word == "./locker-1-state" else word for word in run]
    with machine.log("sim") as output:
        machine.sim = subprocess.Popen(
            [sys.executable, "-m", "linli_sim.cli", *run[1:]],
            env=machine.env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    kiosk_steps(machine)


def sheet_password(command: str) -> str:
    words = shlex.split(command)
    return words[words.index("--password") + 1]


STEPS: dict[str, Callable[[Machine, list[str]], None]] = {
    "linli db upgrade": lambda m, a: m.linli(a[1:]) and None,
    "linli site create": lambda m, a: m.linli(a[1:]) and None,
    "linli staff create": lambda m, a: staff_create(m, a[1:]),
    "linli devices dynsec-init": lambda m, a: m.linli([m.path(w) for w in a[1:]]) and None,
    # The test's broker runs as this test's user: the file is its own already.
    "chown mosquitto:mosquitto": lambda m, a: None,
    "cp deploy/mosquitto/mosquitto-dynsec.conf": copy_config,
    "systemctl restart mosquitto": restart_mosquitto,
    "systemctl enable --now linli-web linli-worker": start_web_and_worker,
    "linli-sim locker": run_sim,
}


def step_for(line: str) -> Callable[[Machine, list[str]], None]:
    for start, step in STEPS.items():
        if line == start or line.startswith(start + " "):
            return step
    raise AssertionError(f"docs/operations.md has a first-day step this test does not know: {line}")


# --- the console and the kiosk ------------------------------------------------------------------


def console_steps(machine: Machine) -> None:
    """Steps 4 to 7 of the section: a tool type, a locker, an item in it, a resident."""
    assert machine.app is not None
    staff = machine.app.test_client()
    submit(staff, "/staff/sign-in", username="sunli", password=ADMIN_PASSWORD)
    submit(
        staff, "/staff/admin/tools/new", code="drill", name_zh="电钻", name_en="Electric drill",
        loan_days="7",
    )  # fmt: skip
    sheet = submit(
        staff, "/staff/admin/devices", expect=200, kind="locker", device_id="locker-1",
        name="大厅 1 号柜", compartments="8",
    )  # fmt: skip
    found = re.search(r'<pre class="sheet-command"><code>(linli-sim [^<]+)</code></pre>', sheet)
    assert found, "the provisioning sheet has no command line"
    machine.sheet_command = html.unescape(found.group(1))
    with machine.app.app_context(), database().read() as session:
        from booking.lending.models.tool_types import ToolType

        drill = session.scalars(select(ToolType.id).where(ToolType.code == "drill")).one()
    submit(
        staff, "/staff/admin/items/new", asset_tag="YS-DRILL-001", tool_type=str(drill),
        locker="locker-1", compartment="1", status="available",
    )  # fmt: skip
    slip = submit(
        staff, "/staff/residents/new", expect=200, name="李桂兰", phone=RESIDENT_PHONE,
        birth_year="1951", building="3", unit="2", room="401", preferred_language="zh_CN",
    )  # fmt: skip
    code = re.search(r'<p class="slip-code"[^>]*>([\d ]+)</p>', slip)
    assert code, "the enrolment answer is no slip with a code"
    machine.slip_code = code.group(1).replace(" ", "")


def kiosk_steps(machine: Machine) -> None:
    """The resident chooses a PIN with the slip's code and borrows the drill from locker-1."""
    assert machine.app is not None
    kiosk = machine.app.test_client()
    submit(kiosk, "/kiosk/code", phone=RESIDENT_PHONE, code=machine.slip_code)
    submit(kiosk, "/kiosk/code/pin", pin=RESIDENT_PIN, pin_again=RESIDENT_PIN)
    assert "李*兰" in kiosk.get("/kiosk/").get_data(as_text=True)

    # The kiosk offers the drill once the locker's birth has reached the worker's bridge.
    def offered() -> tuple[str, re.Match[str]] | None:
        page = kiosk.get("/kiosk/tools").get_data(as_text=True)
        found = re.search(r'action="(/kiosk/tools/\d+/borrow)"', page)
        return (page, found) if found and locker_online(machine) else None

    tools, borrow = wait_until(offered, "the kiosk to offer the drill in locker-1", machine)
    response = kiosk.post(borrow.group(1), data={"csrf_token": csrf(tools)})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[-2000:]
    pickup = response.headers["Location"]
    assert "/kiosk/tools/pickup/" in pickup, pickup

    def loan_slip() -> str | None:
        # The waiting screen asks after its door session, as the kiosk's page does.
        status = kiosk.get(f"{pickup}/status").get_json(silent=True) or {}
        location = status.get("next") or status.get("redirect") or ""
        return location if "/slip" in str(location) else None

    wait_until(
        lambda: loan_slip() or active_loan(machine), "the locker to confirm the loan", machine
    )
    loan = active_loan(machine)
    assert loan is not None


def locker_online(machine: Machine) -> bool:
    from devices.models.device import Device

    assert machine.app is not None
    with machine.app.app_context(), database().read() as session:
        return bool(session.scalar(select(Device.online).where(Device.device_id == "locker-1")))


def active_loan(machine: Machine) -> Loan | None:
    assert machine.app is not None
    with machine.app.app_context(), database().read() as session:
        loan = session.scalars(
            select(Loan).join(Resident, Resident.id == Loan.resident_id)
            .where(Resident.phone == RESIDENT_PHONE, Loan.status == LoanStatus.ACTIVE)
        ).one_or_none()  # fmt: skip
        if loan is not None:
            session.expunge(loan)
        return loan


def test_the_first_day_section_takes_an_empty_database_to_a_loan_through_a_console_locker(
    machine: Machine,
) -> None:
    commands = section_commands()
    assert commands, "no commands found in the first-day section"
    for line in commands:
        step_for(line)(machine, shlex.split(line))
    assert machine.sim is not None, "the section never started the locker"
    loan = active_loan(machine)
    assert loan is not None and loan.lent_by_staff_id is None
    # The demo's centre was never made: the only site is the one the section created.
    assert machine.app is not None
    with machine.app.app_context(), database().read() as session:
        from booking.core.models.sites import Site

        assert session.scalars(select(Site.slug)).all() == ["yongsheng"]


def test_the_words_the_first_day_section_tells_people_to_tap_are_the_ones_on_screen() -> None:
    """Its console and kiosk steps name buttons and menus in bold, in Chinese: each must be a
    Chinese word the catalogue gives the screens, or an operator looks for a button that
    is not there."""
    from babel.messages.pofile import read_po

    text = OPERATIONS.read_text(encoding="utf-8")
    start = text.index(SECTION)
    section = text[start : text.index("\n## ", start + len(SECTION))]
    with open(ROOT / "kiosk/translations/zh_Hans_CN/LC_MESSAGES/messages.po", "rb") as po:
        on_screen = {m.string for m in read_po(po) if isinstance(m.string, str)}
    named = [
        word.strip()
        for bold in re.findall(r"\*\*([^*]+)\*\*", section)
        for word in bold.split("→")
        if re.search(r"[\u4e00-\u9fff]", word)
    ]
    assert len(named) >= 10
    assert [word for word in named if word not in on_screen] == []
