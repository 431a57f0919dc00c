"""A device command changes state only through its own methods, and each method allows
exactly the transitions in this table: a final command refuses every change and keeps its
state, its reason and its finishing time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devices.models.commands import CommandState, DeviceCommand, WrongCommandState

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a fixed instant: only the fields' values matter

CREATED, SENT, ACCEPTED = CommandState.CREATED, CommandState.SENT, CommandState.ACCEPTED
SUCCEEDED, FAILED, REJECTED = CommandState.SUCCEEDED, CommandState.FAILED, CommandState.REJECTED
TIMED_OUT = CommandState.TIMED_OUT
METHODS = ("accept", "succeed", "refuse", "time_out")

# Where each method takes a command in each state; None: the method refuses it.
#               accept    succeed    refuse    time_out
EXPECTED: dict[CommandState, tuple[CommandState | None, ...]] = {
    CREATED:   (ACCEPTED, SUCCEEDED, REJECTED, TIMED_OUT),
    SENT:      (ACCEPTED, SUCCEEDED, REJECTED, TIMED_OUT),
    ACCEPTED:  (ACCEPTED, SUCCEEDED, FAILED,   TIMED_OUT),
    SUCCEEDED: (None,     None,      None,     None),
    FAILED:    (None,     None,      None,     None),
    REJECTED:  (None,     None,      None,     None),
    TIMED_OUT: (None,     None,      None,     None),
}  # fmt: skip
ARGS = {"accept": (NOW,), "succeed": (NOW,), "refuse": ("jammed", NOW), "time_out": (NOW,)}


def command_in(state: CommandState) -> DeviceCommand:
    return DeviceCommand(
        id="c-1", device_id="locker-a", site="xinhua", name="open", args={}, state=state,
        requested_by="test", created_at=NOW, expires_at=NOW, send_count=0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("method", "start", "end"),
    [
        (method, start, row[i])
        for start, row in EXPECTED.items()
        for i, method in enumerate(METHODS)
    ],
)
def test_a_commands_method_allows_only_its_transitions(
    method: str, start: CommandState, end: CommandState | None
) -> None:
    command = command_in(start)
    if end is not None:
        getattr(command, method)(*ARGS[method])
        assert command.state is end
    else:
        with pytest.raises(WrongCommandState):
            getattr(command, method)(*ARGS[method])
        assert command.state is start
        assert (command.reason, command.finished_at) == (None, None)


def test_every_final_state_refuses_every_change() -> None:
    assert set(EXPECTED) == set(CommandState)
    finals = [state for state in CommandState if state.is_final]
    assert finals and all(EXPECTED[state] == (None,) * len(METHODS) for state in finals)


@pytest.mark.parametrize("start", list(CommandState))
def test_a_publication_moves_only_a_created_command_to_sent(start: CommandState) -> None:
    command = command_in(start)
    command.published(NOW)
    assert command.state is (CommandState.SENT if start is CommandState.CREATED else start)
    assert (command.send_count, command.sent_at, command.last_sent_at) == (1, NOW, NOW)


def test_a_repeated_acceptance_keeps_the_first_time() -> None:
    command = command_in(CommandState.SENT)
    command.accept(NOW)
    later = datetime(2026, 1, 5, 9, 1, tzinfo=UTC)
    command.accept(later)
    assert (command.state, command.accepted_at) == (CommandState.ACCEPTED, NOW)


@pytest.mark.parametrize(
    ("sent", "accepted", "reason"),
    [(None, None, "not_delivered"), (NOW, None, "no_reply"), (None, NOW, "no_reply")],
)
def test_a_timed_out_command_says_whether_it_ever_reached_the_device(
    sent: datetime | None, accepted: datetime | None, reason: str
) -> None:
    command = command_in(CommandState.ACCEPTED if accepted else CommandState.CREATED)
    command.sent_at, command.accepted_at = sent, accepted
    command.time_out(NOW)
    assert (command.state, command.reason, command.finished_at) == (
        CommandState.TIMED_OUT, reason, NOW,
    )  # fmt: skip
