"""The throttle on guessing PINs and passwords, shared by every web worker (a table).

Two limits, both counted from the failures recorded in ``sign_in_failures``:

- **Per client** (its address, or a kiosk's id where it gives one): at most
  :data:`CLIENT_LIMIT` failed sign-ins in :data:`CLIENT_WINDOW`, whatever phones or usernames
  were tried. Trying the commonest PINs across many phones stops after ten.
- **Per account from that client**: after :data:`FREE_FAILURES` wrong tries, each further
  try from the same client waits longer (30 s, 1 min, 2 min, … up to 15 min) after the
  last. It slows only the client that made the mistakes: a stranger typing a resident's
  phone elsewhere cannot lock the resident out of the kiosk in the lobby.

A success forgets that client's failures for the account (they were the resident's own
slips); staff may forget all of a resident's failures from the resident's page. Nothing here sees a PIN or a password.

Why not Flask-Limiter: its limits count requests, not failures, per key and window; this
counts only wrong answers and grows a delay per account and client, and its shared storage
would have been one more service (Redis) beside the database every worker already shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import TooManySignIns
from booking.people.models.residents import Resident
from booking.people.models.sign_in_failures import SignInFailure, SignInKind
from booking.people.models.staff import StaffAccount

CLIENT_LIMIT = 10
CLIENT_WINDOW = timedelta(minutes=10)
FREE_FAILURES = 2
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
# How long an account's failures from a client count towards its delay.
ACCOUNT_MEMORY = timedelta(hours=1)
MEMORY = max(ACCOUNT_MEMORY, CLIENT_WINDOW)

MAX_CLIENT_LENGTH = 80
MAX_ACCOUNT_LENGTH = 64


@dataclass(frozen=True)
class Attempt:
    """Who is trying to sign in, as the throttle counts them."""

    kind: SignInKind
    account: str
    client: str

    @classmethod
    def of(cls, kind: SignInKind, account: str, client: str) -> Attempt:
        # Cut to the columns' size: an overlong value is still counted, under its prefix.
        return cls(kind, account[:MAX_ACCOUNT_LENGTH], (client or "unknown")[:MAX_CLIENT_LENGTH])


def delay_after(failures: int) -> timedelta:
    """How long an account waits after its ``failures``-th wrong try from one client."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    doubled: timedelta = FIRST_DELAY * 2 ** min(failures - FREE_FAILURES - 1, 16)
    return min(doubled, MAX_DELAY)


def _client_wait(session: Session, attempt: Attempt, now: datetime) -> timedelta:
    recent = list(
        session.scalars(
            select(SignInFailure.at)
            .where(SignInFailure.client == attempt.client, SignInFailure.at > now - CLIENT_WINDOW)
            .order_by(SignInFailure.at.desc())
            .limit(CLIENT_LIMIT)
        )
    )
    if len(recent) < CLIENT_LIMIT:
        return timedelta(0)
    # Free again when the oldest of the last ten leaves the window.
    return recent[-1] + CLIENT_WINDOW - now


def _account_wait(session: Session, attempt: Attempt, now: datetime) -> timedelta:
    count, last = session.execute(
        select(func.count(), func.max(SignInFailure.at)).where(
            SignInFailure.kind == attempt.kind,
            SignInFailure.account == attempt.account,
            SignInFailure.client == attempt.client,
            SignInFailure.at > now - ACCOUNT_MEMORY,
        )
    ).one()
    if last is None:
        return timedelta(0)
    return max(timedelta(0), last + delay_after(count) - now)


def check(session: Session, attempt: Attempt, *, now: datetime) -> None:
    """Refuse the attempt before any PIN is checked if this client must wait."""
    wait = max(_client_wait(session, attempt, now), _account_wait(session, attempt, now))
    if wait > timedelta(0):
        seconds = int(-(-wait.total_seconds() // 1))  # rounded up: never "wait 0 s"
        raise TooManySignIns("too many wrong tries; wait before trying again",
                             retry_after=max(1, seconds))  # fmt: skip


# How the audit log names the account a failed sign-in typed.
_SUBJECT_PREFIX = {SignInKind.RESIDENT: "phone", SignInKind.STAFF: "staff"}


def record_failure(
    session: Session, attempt: Attempt, *, now: datetime, site_id: int | None
) -> None:
    """Count one wrong PIN or password, and audit it at ``site_id`` (time, client, account;
    never the secret). Failures older than anything counts are deleted."""
    session.execute(delete(SignInFailure).where(SignInFailure.at <= now - MEMORY))
    session.add(
        SignInFailure(kind=attempt.kind, account=attempt.account, client=attempt.client, at=now)
    )
    session.flush()
    audit.record(
        session, action=f"{attempt.kind.value}.sign_in_failed", actor=f"client:{attempt.client}",
        site_id=site_id, now=now, subject=f"{_SUBJECT_PREFIX[attempt.kind]}:{attempt.account}",
        detail={"client": attempt.client},
    )  # fmt: skip


def forget(session: Session, attempt: Attempt) -> None:
    """A success: this client's failures for this account were a resident's own slips, and
    stop counting, for the account and for the client. Failures on other accounts stay, so
    signing in to one's own account does not buy more guesses at others'."""
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.kind == attempt.kind,
            SignInFailure.account == attempt.account,
            SignInFailure.client == attempt.client,
        )
    )


def failures_of(session: Session, kind: SignInKind, account: str, *, now: datetime) -> int:
    """How many failures the account has from any client that still count."""
    return (
        session.scalar(
            select(func.count()).where(
                SignInFailure.kind == kind,
                SignInFailure.account == account,
                SignInFailure.at > now - ACCOUNT_MEMORY,
            )
        )
        or 0
    )


def clear_resident_failures(
    session: Session, *, staff: StaffAccount, resident: Resident, now: datetime
) -> int:
    """Staff clear a resident's failed sign-ins from every client (the resident proved who
    they are at the desk), audited; returns how many were cleared."""
    result = session.execute(
        delete(SignInFailure).where(
            SignInFailure.kind == SignInKind.RESIDENT, SignInFailure.account == resident.phone
        )
    )
    cleared = int(result.rowcount or 0)  # type: ignore[attr-defined]
    audit.record_staff(
        session, staff, action="resident.sign_in_failures_cleared", now=now,
        subject=f"resident:{resident.id}", detail={"cleared": cleared},
    )  # fmt: skip
    return cleared
