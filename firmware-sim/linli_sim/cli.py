"""`linli-sim`: run simulated lockers, blood-pressure terminals and kiosk readers against a broker.

    linli-sim fleet --lockers 2 --bp 1 --broker mqtt://127.0.0.1:1883 --site xinhua --state-dir DIR
    linli-sim locker --device-id locker-a --broker … --site … --state-dir …
    linli-sim bp --device-id bp-1 --broker … --site … --state-dir …
    linli-sim reader --device-id reader-1 --broker … --site … --state-dir …

They run until Ctrl-C (a clean shutdown: offline status, then DISCONNECT). Lines typed on
stdin are faults and actions (`help` lists them).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from linli_sim import FIRMWARE
from linli_sim.console import run_console_line
from linli_sim.fleet import DeviceSpec, Fleet, default_specs, load_specs


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--broker", default="mqtt://127.0.0.1:1883", help="mqtt://[user:pass@]host:port"
    )
    parser.add_argument("--site", required=True, help="the site slug, e.g. xinhua")
    parser.add_argument(
        "--state-dir", required=True, type=Path, help="where each device keeps its memory"
    )
    parser.add_argument(
        "--auto-person",
        action="store_true",
        help="a resident opens, takes/returns and closes after every unlock",
    )
    parser.add_argument(
        "--no-show-rate",
        type=float,
        default=0.0,
        help="with --auto-person, the share of unlocks nobody comes to (0 to 1; default 0)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="real seconds per device second: 0.1 makes the 60 s relock take 6 s",
    )
    parser.add_argument(
        "--activity-every",
        type=float,
        default=180.0,
        help="mean device seconds between random blood-pressure visits (0: none)",
    )
    parser.add_argument(
        "--no-console", action="store_true", help="do not read fault commands from stdin"
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("-v", "--verbose", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linli-sim", description=f"{FIRMWARE}: simulated Linli devices"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fleet = commands.add_parser("fleet", help="run several devices of one site")
    fleet.add_argument("--lockers", type=int, default=2)
    fleet.add_argument("--bp", type=int, default=1)
    fleet.add_argument("--readers", type=int, default=0)
    fleet.add_argument("--compartments", type=int, default=8)
    fleet.add_argument(
        "--devices", type=Path, help="JSON list from provisioning (ids, kinds, passwords)"
    )
    _common(fleet)
    for name, help_text in (
        ("locker", "run one locker"),
        ("bp", "run one blood-pressure terminal"),
        ("reader", "run one kiosk reader (card and QR)"),
    ):
        one = commands.add_parser(name, help=help_text)
        one.add_argument("--device-id", required=True)
        one.add_argument("--username")
        one.add_argument("--password")
        if name == "locker":
            one.add_argument("--compartments", type=int, default=8)
        _common(one)
    return parser


def specs_from(args: argparse.Namespace) -> list[DeviceSpec]:
    if args.command == "fleet":
        if args.devices:
            return load_specs(args.devices)
        return default_specs(args.lockers, args.bp, args.compartments, args.readers)
    kind = {"locker": "locker", "bp": "bp_terminal", "reader": "kiosk_reader"}[args.command]
    return [
        DeviceSpec(
            args.device_id,
            kind,
            args.username,
            args.password,
            getattr(args, "compartments", 8),
        )
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.time_scale <= 0:
        parser.error("--time-scale must be greater than 0")
    if not 0 <= args.no_show_rate <= 1:
        parser.error("--no-show-rate must be between 0 and 1")
    try:
        fleet = Fleet(
            specs_from(args),
            site=args.site,
            broker_url=args.broker,
            state_dir=args.state_dir,
            auto_person=args.auto_person,
            no_show_rate=args.no_show_rate,
            time_scale=args.time_scale,
            activity_every_s=args.activity_every or None,
            seed=args.seed,
        )
    except ValueError as error:
        parser.error(str(error))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    fleet.start()
    print(
        f"{FIRMWARE}: {', '.join(fleet.devices)} at site {args.site} on {args.broker}; "
        "Ctrl-C stops" + ("" if args.no_console else ", type `help` for faults"),
        flush=True,
    )
    if not args.no_console and sys.stdin is not None:
        threading.Thread(target=_console, args=(fleet, stop), daemon=True).start()
    while not stop.wait(0.5):
        pass
    fleet.stop()
    print("stopped cleanly", flush=True)
    return 0


def _console(fleet: Fleet, stop: threading.Event) -> None:
    """Fault commands from stdin. End of input leaves the fleet running; `quit` stops it."""
    for line in sys.stdin:
        if line.strip().lower() in ("quit", "exit"):
            stop.set()
            return
        answer = run_console_line(fleet.devices, line)
        if answer:
            print(answer, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
