"""What each worker's bridge subscribes to: one worker alone, or the leader and the followers
of several, who share the traffic and leave the retained kinds to the leader."""

from __future__ import annotations

from paho.mqtt.client import topic_matches_sub

from devices.bridge import Bridge
from devices.fleet.broker_accounts import server_acls
from devices.sharing import Role, subscriptions


def test_a_sole_worker_subscribes_to_every_kind_plainly() -> None:
    assert subscriptions("xinhua", Role.SOLE) == [
        f"linli/v1/xinhua/+/{kind}"
        for kind in ("status", "birth", "state", "event", "reply", "heartbeat")
    ]


def test_followers_share_every_kind_but_the_retained_ones() -> None:
    assert subscriptions("xinhua", Role.FOLLOWER) == [
        "$share/linli-xinhua/linli/v1/xinhua/+/birth",
        "$share/linli-xinhua/linli/v1/xinhua/+/event",
        "$share/linli-xinhua/linli/v1/xinhua/+/reply",
        "$share/linli-xinhua/linli/v1/xinhua/+/heartbeat",
    ]


def test_the_leader_shares_the_same_and_hears_status_and_state_plainly() -> None:
    # A shared subscription is never handed a retained message: the leader's plain ones are
    # handed every device's latest status and state when it takes over.
    leader = subscriptions("xinhua", Role.LEADER)
    assert leader[:4] == subscriptions("xinhua", Role.FOLLOWER)
    assert leader[4:] == ["linli/v1/xinhua/+/state", "linli/v1/xinhua/+/status"]


def test_a_sole_worker_keeps_its_session_and_sharing_workers_keep_none() -> None:
    # The one worker's persistent session is what redelivers the events that came while it
    # was down (tests/lending/test_locker_flows.py); a shared group's member keeps none.
    for role, clean in ((Role.SOLE, False), (Role.LEADER, True), (Role.FOLLOWER, True)):
        bridge = Bridge(None, "mqtt://127.0.0.1:1", "xinhua", role=role)  # type: ignore[arg-type]
        assert bridge._client._clean_session is clean, role


def test_the_server_account_may_take_every_filter_of_every_role() -> None:
    # Mosquitto checks a shared subscription against the ACL with its $share prefix.
    patterns = [acl["topic"] for acl in server_acls() if acl["acltype"] == "subscribePattern"]
    for role in Role:
        for topic in subscriptions("xinhua", role):
            assert any(topic_matches_sub(pattern, topic) for pattern in patterns), topic
