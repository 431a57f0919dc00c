"""The demo's child processes (web, worker, simulated fleet): each in its own process group,
dying with the demo however it dies, its output copied into a rotating log file."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import IO

STOP_TIMEOUT = 10.0
PR_SET_PDEATHSIG = 1

# Each process's output passes through the demo into its log, which rotates by size: a demo
# left running for weeks keeps at most (1 + LOG_BACKUPS) × LOG_MAX_BYTES per process.
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 3


def _die_with_parent() -> None:
    """In the child: receive SIGTERM when the demo dies, however it dies (Linux only)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def copy_to_rotating_log(
    stream: IO[bytes], path: Path, max_bytes: int = LOG_MAX_BYTES, backups: int = LOG_BACKUPS
) -> None:
    """Copy ``stream`` into ``path`` line by line until it ends, rotating the file (``path.1``
    … ``path.<backups>``) before it would grow past ``max_bytes``."""
    handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            handler.emit(logging.makeLogRecord({"msg": line, "levelno": logging.INFO}))
    finally:
        handler.close()
        stream.close()


@dataclass
class Child:
    name: str
    argv: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    log_copier: threading.Thread | None = None
    # This process's own settings over the demo's (a district's centre: its LINLI_SITE).
    extra_env: dict[str, str] = field(default_factory=dict)

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            self.argv,
            env={**env, **self.extra_env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Its own process group: Ctrl-C reaches only the demo, which then stops the
            # children in order (simulator, worker, web) instead of all at once.
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        assert self.process.stdout is not None
        self.log_copier = threading.Thread(
            target=copy_to_rotating_log,
            args=(self.process.stdout, self.log_path),
            name=f"linli-demo-log-{self.name}",
            daemon=True,
        )
        self.log_copier.start()

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # What it started may outlive it (a killed worker's commit process): its group goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        if self.log_copier is not None:
            self.log_copier.join(STOP_TIMEOUT)  # its last words, into the log

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def web_command(bin_dir: Path, port: int) -> list[str]:
    return [
        str(bin_dir / "gunicorn"),
        "--workers",
        "2",
        # Threads: each open alerts inbox holds a request (its event stream).
        "--threads",
        "8",
        "--bind",
        f"127.0.0.1:{port}",
        "--graceful-timeout",
        "5",
        "kiosk:create_app()",
    ]


def simulator_command(
    bin_dir: Path, broker_url: str, site: str, state_dir: Path, devices_file: Path
) -> list[str]:
    return [
        str(bin_dir / "linli-sim"),
        "fleet",
        "--broker",
        broker_url,
        "--site",
        site,
        "--state-dir",
        str(state_dir),
        "--devices",
        str(devices_file),
        "--auto-person",
        "--no-console",
    ]
