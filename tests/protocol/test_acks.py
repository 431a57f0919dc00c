"""Acks name the committed events of one session as runs of seqs (docs/protocol.md §5)."""

from __future__ import annotations

import json

from devices.protocol.messages import MAX_ACK_RANGES, ack_payloads, seq_ranges
from devices.protocol.schemas import validator


def test_consecutive_seqs_are_acknowledged_as_one_range() -> None:
    assert seq_ranges(range(1, 501)) == [[1, 500]]


def test_a_missing_seq_splits_the_ranges_around_it() -> None:
    assert seq_ranges([1, 2, 3, 5, 6, 9]) == [[1, 3], [5, 6], [9, 9]]


def test_ranges_come_sorted_and_once_whatever_order_the_events_came_in() -> None:
    assert seq_ranges([7, 3, 4, 3, 7, 5]) == [[3, 5], [7, 7]]


def test_a_burst_of_one_session_is_one_ack_message() -> None:
    [payload] = ack_payloads(7, range(1, 501))
    assert json.loads(payload) == {"v": 1, "session": 7, "seqs": [[1, 500]]}


def test_more_ranges_than_one_message_holds_go_in_further_messages() -> None:
    every_other = range(0, 2 * (MAX_ACK_RANGES + 3), 2)
    payloads = [json.loads(p) for p in ack_payloads(2, every_other)]
    assert [len(p["seqs"]) for p in payloads] == [MAX_ACK_RANGES, 3]
    assert [
        seq for p in payloads for first, last in p["seqs"] for seq in range(first, last + 1)
    ] == list(every_other)


def test_every_ack_message_meets_the_ack_schema() -> None:
    for payload in ack_payloads(3, [*range(0, 200, 2), 201, 202, 203]):
        assert validator("ack.json").is_valid(json.loads(payload))
