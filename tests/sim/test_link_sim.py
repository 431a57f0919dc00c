"""The connection rules every simulated device follows: session counter, Last Will, re-birth,
the durable outbox and resync (docs/protocol.md §3–§5)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sim_probe import ServerProbe

from linli_sim import socket_loop
from linli_sim.locker import LockerSim

StartDevice = Callable[..., Any]


def test_going_offline_without_disconnect_fires_the_will_with_the_session(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    session = locker.session
    locker.go_offline()
    will = probe.wait_for("locker-a", "status", state="offline")[0]
    assert will["session"] == session


def test_a_clean_stop_publishes_offline_before_disconnecting(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    session = locker.session
    locker.stop()
    offline = probe.wait_for("locker-a", "status", state="offline")[0]
    assert offline["session"] == session


def test_reconnecting_starts_a_new_session_with_a_birth_at_seq_zero(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    first = locker.session
    locker.reconnect()
    births = probe.wait_for("locker-a", "birth", 2)
    assert [(b["session"], b["seq"]) for b in births] == [(first, 0), (first + 1, 0)]
    online = probe.wait_for("locker-a", "status", state="online", session=first + 1)
    assert online


def test_server_turning_online_again_makes_the_device_re_publish_birth_and_state(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    probe.server_status("online")
    locker = start_device(LockerSim, "locker-a")
    # The retained online status seen at connect needs no second birth.
    probe.wait_for("locker-a", "state")
    assert len(probe.of("locker-a", "birth")) == 1
    probe.server_status("offline")
    probe.server_status("online")
    births = probe.wait_for("locker-a", "birth", 2)
    assert births[1]["session"] == locker.session
    assert births[1]["seq"] > births[0]["seq"]
    states = probe.wait_for("locker-a", "state", 2)
    assert states[-1]["seq"] == births[1]["seq"] + 1


# amqtt replays the retained `online` that asked for a rebirth to the returning device.
@pytest.mark.mosquitto
def test_a_server_online_that_asks_no_rebirth_gets_none(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    """docs/protocol.md §4: another worker of the server took over and lost nothing."""
    probe.server_status("online")
    start_device(LockerSim, "locker-a")
    state = probe.wait_for("locker-a", "state")[0]
    probe.server_status("offline")
    probe.server_status("online", rebirth=False)
    # The device reads its messages in order: the command's answer comes after whatever the
    # status made it send, and it is the next message after the state.
    command_id = probe.command("locker-a", "open", {"compartment": 1})
    reply = probe.wait_for("locker-a", "reply", command_id=command_id)[0]
    assert reply["seq"] == state["seq"] + 1
    assert len(probe.of("locker-a", "birth")) == 1
    # A later online that says nothing of it asks as before.
    probe.server_status("offline")
    probe.server_status("online")
    assert probe.wait_for("locker-a", "birth", 2)[1]["seq"] > reply["seq"]


def test_seq_grows_by_one_across_birth_state_events_and_replies(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    command_id = probe.command("locker-a", "open", {"compartment": 1})
    probe.wait_for("locker-a", "reply", 2, command_id=command_id)
    locker.person_opens(1)
    probe.wait_for("locker-a", "event")
    seqd = [
        m["seq"]
        for m in probe.messages
        if m.suffix in ("birth", "state", "event", "reply") and m["session"] == locker.session
    ]
    assert sorted(seqd) == list(range(len(seqd)))


def test_events_are_kept_until_acked(start_device: StartDevice, probe: ServerProbe) -> None:
    locker = start_device(LockerSim, "locker-a")
    locker.force_open(1)
    locker.jam(2)
    first, second = probe.wait_for("locker-a", "event", 2)
    assert locker.unacked_count() == 2
    probe.ack("locker-a", first["session"], first["seq"])
    probe.wait_until(lambda: locker.unacked_count() == 1)
    probe.ack("locker-a", second["session"], second["seq"])
    probe.wait_until(lambda: locker.unacked_count() == 0)


def test_one_ack_with_a_range_of_seqs_forgets_every_event_in_it(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    locker.force_open(1)
    locker.jam(2)
    locker.force_open(3)
    events = probe.wait_for("locker-a", "event", 3)
    seqs = sorted(e["seq"] for e in events)
    probe.publish(
        "locker-a", "ack", {"v": 1, "session": locker.session, "seqs": [[seqs[0], seqs[1]]]}
    )
    probe.wait_until(lambda: locker.unacked_count() == 1)
    probe.publish(
        "locker-a", "ack", {"v": 1, "session": locker.session, "seqs": [[seqs[2], seqs[2]]]}
    )
    probe.wait_until(lambda: locker.unacked_count() == 0)


MALFORMED_ACKS: dict[str, Callable[[int, int], dict[str, object]]] = {
    "old single-seq form": lambda session, seq: {"v": 1, "session": session, "seq": seq},
    "first after last": lambda session, seq: {"v": 1, "session": session, "seqs": [[seq + 1, seq]]},
    "one number": lambda session, seq: {"v": 1, "session": session, "seqs": [[seq]]},
    "session as text": lambda session, seq: {"v": 1, "session": str(session), "seqs": [[seq, seq]]},
    "seq as text": lambda session, seq: {"v": 1, "session": session, "seqs": [[str(seq), seq]]},
}


@pytest.mark.parametrize("why", MALFORMED_ACKS)
def test_a_malformed_ack_forgets_nothing(
    start_device: StartDevice, probe: ServerProbe, why: str
) -> None:
    locker = start_device(LockerSim, "locker-a")
    locker.force_open(1)
    locker.jam(2)
    first, second = sorted(probe.wait_for("locker-a", "event", 2), key=lambda e: e["seq"])
    probe.publish("locker-a", "ack", MALFORMED_ACKS[why](first["session"], first["seq"]))
    # A good ack sent after the bad one: once it has been handled, so has the bad one.
    probe.ack("locker-a", second["session"], second["seq"])
    probe.wait_until(lambda: locker.unacked_count() == 1)
    assert [e["seq"] for e in locker.store.unacked()] == [first["seq"]]


def test_unacked_events_are_re_sent_after_reconnect_with_their_session_and_seq(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    locker.force_open(3)
    original = probe.wait_for("locker-a", "event")[0]
    locker.reconnect()
    resent = probe.wait_for("locker-a", "event", 2)[1]
    assert resent.payload == original.payload
    # Every connect attempt begins a session: a loaded machine may need more than one.
    assert locker.session > original["session"]


def test_events_made_while_offline_are_sent_after_reconnecting(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    offline_session = locker.session
    locker.go_offline()
    locker.force_open(4)
    assert probe.of("locker-a", "event") == []
    locker.go_online()
    event = probe.wait_for("locker-a", "event", type="forced_open")[0]
    assert event["session"] == offline_session


def test_unacked_events_are_re_sent_periodically_while_connected(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    # At real time, so that the door left open makes no event of its own meanwhile.
    locker = start_device(LockerSim, "locker-a", resend_interval=0.2, time_scale=1.0)
    locker.force_open(1)
    copies = probe.wait_for("locker-a", "event", 3, timeout=5, type="forced_open")
    assert len({(c["session"], c["seq"]) for c in copies}) == 1
    probe.ack("locker-a", copies[0]["session"], copies[0]["seq"])
    probe.wait_until(lambda: locker.unacked_count() == 0)


def test_re_sends_back_off_while_no_ack_comes_and_keep_pace_again_after_an_ack(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    """docs/protocol.md §5: each round of re-sends that finds the event still unacked waits
    twice as long as the one before (here from 0.2 s, with up to 10 % less at random)."""
    # At real time, so that the door left open makes no event of its own meanwhile.
    locker = start_device(LockerSim, "locker-a", resend_interval=0.2, time_scale=1.0)
    locker.force_open(1)
    copies = probe.wait_for("locker-a", "event", 5, timeout=15, type="forced_open")
    assert len({(c["session"], c["seq"]) for c in copies}) == 1
    # Rounds of 0.4, 0.8 and 1.6 s at least 10 % shorter: 2.27 s between the second copy and
    # the fifth, where a fixed pace of 0.2 s would take 0.6 s. (A slow machine only adds.)
    assert copies[4].at - copies[1].at >= 0.9 * (0.4 + 0.8 + 1.6) * 0.9

    probe.ack("locker-a", copies[0]["session"], copies[0]["seq"])
    probe.wait_until(lambda: locker.unacked_count() == 0)
    locker.force_open(2)
    second = probe.wait_for("locker-a", "event", 2, timeout=15, compartment=2, type="forced_open")
    # The emptied outbox set the pace back to 0.2 s; backed off it would be 2.16 s or more.
    assert second[1].at - second[0].at < 2.0


def test_power_cycle_grows_the_session_restarts_seq_and_keeps_the_outbox(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    before = locker.session
    locker.force_open(2)
    event = probe.wait_for("locker-a", "event")[0]
    locker.power_cycle()
    will = probe.wait_for("locker-a", "status", state="offline")[0]
    assert will["session"] == before
    birth = probe.wait_for("locker-a", "birth", session=before + 1)[0]
    assert birth["seq"] == 0
    # The physical state survives: the door is still open.
    assert birth["state"]["compartments"][1]["door"] == "open"
    assert locker.unacked_count() == 1
    resent = probe.wait_for("locker-a", "event", 2)[1]
    assert resent.payload == event.payload


def test_an_unlock_in_progress_falls_back_to_locked_after_power_loss(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a", unlock_s=500)
    command_id = probe.command("locker-a", "open", {"compartment": 1})
    probe.wait_for("locker-a", "reply", command_id=command_id, status="accepted")
    locker.power_cycle()
    assert locker.compartment(1)["lock"] == "locked"


def test_a_repeated_command_after_power_cycle_is_still_not_executed_again(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    command_id = probe.command("locker-a", "open", {"compartment": 1})
    probe.wait_for("locker-a", "reply", 2, command_id=command_id)
    locker.power_cycle()
    probe.command("locker-a", "open", {"compartment": 1}, command_id=command_id)
    probe.wait_for("locker-a", "reply", 4, command_id=command_id)
    assert locker.executed_commands == [command_id]


def test_resync_command_answers_with_birth_and_state(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    start_device(LockerSim, "locker-a")
    command_id = probe.command("locker-a", "resync")
    replies = probe.wait_for("locker-a", "reply", 2, command_id=command_id)
    assert [r["status"] for r in replies] == ["accepted", "done"]
    births = probe.wait_for("locker-a", "birth", 2)
    assert replies[0]["seq"] < births[1]["seq"] < replies[1]["seq"]


def test_duplicate_fault_sends_the_last_message_byte_for_byte(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a", time_scale=1.0)
    locker.jam(1)  # an event, then the state
    last = probe.wait_for("locker-a", "state", 2)[-1]
    assert locker.send_duplicate_of_last()
    again = probe.wait_for("locker-a", "state", 3)[-1]
    assert again.payload == last.payload


def test_reorder_fault_sends_the_next_messages_in_reverse(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    locker.reorder_next(2)
    locker.jam(1)  # event, then state
    event = probe.wait_for("locker-a", "event")[0]
    state = probe.wait_for("locker-a", "state", 2)[-1]
    assert state["seq"] == event["seq"] + 1
    assert probe.messages.index(state) < probe.messages.index(event)


def test_malformed_fault_payloads_break_the_schema(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    kinds = [
        "not_json",
        "not_an_object",
        "wrong_version",
        "spoofed_device",
        "unknown_event",
        "oversize",
    ]
    probe.expect_invalid(len(kinds) - 1)
    for kind in kinds:
        locker.send_malformed(kind)
    probe.wait_until(lambda: len(probe.invalid) == len(kinds) - 1)
    # The spoofed one is a valid event in another device's name: the topic gives it away.
    spoofed = probe.wait_for("locker-a", "event")[0]
    assert spoofed["device"] == "someone-else"


def test_after_the_broker_restarts_the_device_reconnects_in_a_new_session(
    own_mosquitto: Any, mqtt_site: str, tmp_path: Path
) -> None:
    locker = LockerSim(
        "locker-a", mqtt_site, own_mosquitto.url, tmp_path / "state", time_scale=0.01
    )
    locker.start()
    try:
        first = locker.session
        own_mosquitto.restart()
        probe = ServerProbe(own_mosquitto.url, mqtt_site)
        try:
            # Retained, so seen whenever the device managed to come back. Every connect attempt
            # (also the refused ones while the broker was down) takes a new session number.
            probe.wait_until(
                lambda: any(
                    m["session"] > first for m in probe.of("locker-a", "status", state="online")
                ),
                timeout=15,
            )
            assert locker.wait_connected(5)
        finally:
            probe.close()
        assert probe.invalid == []
    finally:
        locker.stop()


def test_heartbeats_carry_the_session_and_no_seq(
    start_device: StartDevice, probe: ServerProbe
) -> None:
    locker = start_device(LockerSim, "locker-a")
    heartbeat = probe.wait_for("locker-a", "heartbeat")[0]
    assert heartbeat["session"] == locker.session
    assert "seq" not in heartbeat.payload


def test_the_link_turns_nagle_off_so_a_reply_is_not_held_behind_the_previous_packet(
    start_device: StartDevice,
) -> None:
    locker = start_device(LockerSim, "locker-a")
    sock = locker.link._client.socket()  # the one way to see the option paho left us to set
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_a_message_made_on_another_thread_goes_out_without_waiting_for_the_idle_loop(
    start_device: StartDevice, probe: ServerProbe, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An idle loop that sleeps far longer than the wait below: only the wake-up can make it.
    monkeypatch.setattr(socket_loop, "LOOP_IDLE_S", 60.0)
    locker = start_device(LockerSim, "locker-a")
    probe.wait_for("locker-a", "state")
    time.sleep(0.5)  # let the network loop settle into its idle select()
    locker.force_open(2)  # this (test) thread, as a timer thread makes a reply
    probe.wait_for("locker-a", "event", type="forced_open", timeout=5)
