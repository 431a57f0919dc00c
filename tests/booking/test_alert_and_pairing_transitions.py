"""A staff alert, a blood-pressure terminal pairing and a health consent change state only
through their own methods: every starting state either moves as the model's rule says or is
refused unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking.alerts.models.alerts import AlertStatus, StaffAlert
from booking.core.errors import Conflict
from booking.health.models.consents import ConsentChannel, HealthConsent
from booking.health.models.pairings import PairingStatus, TerminalPairing

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a fixed instant: only the fields' values matter

ACKNOWLEDGE = {
    AlertStatus.OPEN: AlertStatus.ACKNOWLEDGED,
    AlertStatus.ACKNOWLEDGED: AlertStatus.ACKNOWLEDGED,
}
RESOLVE = {AlertStatus.OPEN: AlertStatus.RESOLVED, AlertStatus.ACKNOWLEDGED: AlertStatus.RESOLVED}


@pytest.mark.parametrize(("table", "action"), [(ACKNOWLEDGE, "acknowledge"), (RESOLVE, "resolve")])
@pytest.mark.parametrize("start", list(AlertStatus))
def test_an_alert_moves_only_along_its_rule(
    start: AlertStatus, table: dict[AlertStatus, AlertStatus], action: str
) -> None:
    alert = StaffAlert(id=1, status=start)
    move = (
        (lambda: alert.acknowledge(staff_id=7, now=NOW))
        if action == "acknowledge"
        else (lambda: alert.resolve(now=NOW, staff_id=7))
    )
    if start in table:
        move()
        assert alert.status is table[start]
    else:
        with pytest.raises(Conflict):
            move()
        assert alert.status is start


def test_acknowledging_twice_keeps_who_acknowledged_first() -> None:
    alert = StaffAlert(id=1, status=AlertStatus.OPEN)
    alert.acknowledge(staff_id=7, now=NOW)
    alert.acknowledge(staff_id=8, now=NOW)
    assert alert.acknowledged_by_staff_id == 7


@pytest.mark.parametrize("start", list(PairingStatus))
@pytest.mark.parametrize("target", [s for s in PairingStatus if not s.is_open])
def test_only_an_open_pairing_finishes(start: PairingStatus, target: PairingStatus) -> None:
    pairing = TerminalPairing(status=start)
    if start.is_open:
        pairing.finish(target, NOW, failure="why")
        assert (pairing.status, pairing.finished_at, pairing.failure) == (target, NOW, "why")
    else:
        with pytest.raises(ValueError):
            pairing.finish(target, NOW)
        assert pairing.status is start


@pytest.mark.parametrize("start", list(PairingStatus))
def test_only_a_waiting_pairing_starts_measuring(start: PairingStatus) -> None:
    pairing = TerminalPairing(status=start)
    pairing.start_measuring(NOW)
    assert pairing.status is (PairingStatus.MEASURING if start is PairingStatus.WAITING else start)


def test_a_consent_is_withdrawn_once_and_keeps_its_first_withdrawal() -> None:
    consent = HealthConsent(id=1, channel=ConsentChannel.KIOSK, given_at=NOW)
    assert consent.in_force
    consent.withdraw(channel=ConsentChannel.PHONE, now=NOW)
    assert (consent.in_force, consent.withdrawn_at, consent.withdrawn_channel) == (
        False, NOW, ConsentChannel.PHONE,
    )  # fmt: skip
    with pytest.raises(ValueError, match="already withdrawn"):
        consent.withdraw(channel=ConsentChannel.KIOSK, now=NOW.replace(hour=10))
    assert (consent.withdrawn_at, consent.withdrawn_channel) == (NOW, ConsentChannel.PHONE)
