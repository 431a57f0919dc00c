"""Starting a broker for the demo and the tests.

Production uses the operator's Mosquitto (see deploy/mosquitto/). When no
``LINLI_MQTT_URL`` is given, the demo starts its own Mosquitto on a free port if the
binary exists, else the embedded amqtt broker (MQTT 3.1.1 only, and its retained
messages ignore access rights: fit for the demo and tests, never for production).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Protocol


class RunningBroker(Protocol):
    url: str

    def stop(self) -> None: ...


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(p)), None
    )


class MosquittoBroker:
    """A Mosquitto of our own on a loopback port, with persistence in ``data_dir``.

    ``extra_config`` is appended to the generated config (password file, ACL, limits);
    ``preamble`` goes before its first listener.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        extra_config: str = "allow_anonymous true\n",
        binary: str | None = None,
        preamble: str = "",
    ) -> None:
        found = binary or mosquitto_binary()
        if found is None:
            raise FileNotFoundError("mosquitto is not installed")
        self.binary = found
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.config_path = self.data_dir / "mosquitto.conf"
        self.log_path = self.data_dir / "mosquitto.log"
        self.extra_config = extra_config
        # Options that must precede every listener (``per_listener_settings``).
        self.preamble = preamble
        self.process: subprocess.Popen[bytes] | None = None

    def write_config(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            self.preamble + f"listener {self.port} 127.0.0.1\n"
            # Started as root, Mosquitto switches to the `mosquitto` user before opening its
            # files, which then cannot read a private tmp dir; as anyone else this is ignored.
            f"user {getpass.getuser()}\n"
            "persistence true\n"
            f"persistence_location {self.data_dir}/\n"
            "autosave_interval 1\n"
            # Mosquitto's default queue of 1000 drops QoS 1 bursts silently.
            "max_queued_messages 100000\n"
            # The bridge PUBACKs after each commit: the window must exceed its batch.
            "max_inflight_messages 1000\n"
            # As deploy/mosquitto: without it a small message waits out a delayed ACK (40 ms).
            "set_tcp_nodelay true\n"
            f"log_dest file {self.log_path}\n"
            "log_type error\nlog_type warning\nlog_type notice\n" + self.extra_config
        )

    def start(self) -> MosquittoBroker:
        self.write_config()
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for_port(self.port)
        except TimeoutError:
            self.stop()
            raise
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop it: SIGTERM for a graceful stop (state saved), SIGKILL for a crash."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self, sig: int = signal.SIGTERM) -> None:
        self.stop(sig)
        self.start()


class EmbeddedBroker:
    """amqtt running on its own event loop in a daemon thread."""

    def __init__(self, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: object | None = None

    def start(self) -> EmbeddedBroker:
        from amqtt.broker import Broker

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                broker = Broker(config, loop=loop)
                self._broker = broker
                loop.run_until_complete(broker.start())
            except BaseException as error:  # reported to the starting thread
                failure.append(error)
                started.set()
                return
            started.set()
            loop.run_forever()
            # Let every connection's task finish before closing, or asyncio warns of open streams.
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="amqtt-broker", daemon=True)
        self._thread.start()
        started.wait(15)
        if failure:
            raise RuntimeError(f"embedded broker did not start: {failure[0]!r}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            broker = self._broker
            shutdown = getattr(broker, "shutdown", None)
            if shutdown is not None:
                with contextlib.suppress(Exception):
                    asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop = None
        self._thread = None


def start_local_broker(data_dir: Path) -> RunningBroker:
    """The demo's broker: our own Mosquitto when installed, else the embedded one."""
    if mosquitto_binary() is not None:
        return MosquittoBroker(data_dir).start()
    return EmbeddedBroker().start()
