"""A site's lending policy: its limits, hold and door times, and when overdue loans suspend
borrowing; the defaults where a site has set none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.lending.models.policies import LendingPolicy

# --- policy -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """A site's lending rules (see :class:`~booking.lending.models.policies.LendingPolicy` for their meaning)."""

    max_items_on_loan: int = 3
    hold: timedelta = timedelta(minutes=120)
    door_open_timeout: timedelta = timedelta(seconds=60)
    overdue_strikes: int = 2
    overdue_window: timedelta = timedelta(days=90)
    suspension: timedelta = timedelta(days=30)
    escalate_after: timedelta = timedelta(days=3)
    max_renewals: int = 1
    no_show_strikes: bool = True


DEFAULT_POLICY = Policy()


def policy_for(session: Session, site_id: int) -> Policy:
    """The site's policy row, or the defaults when the site has none."""
    row = session.scalar(select(LendingPolicy).where(LendingPolicy.site_id == site_id))
    if row is None:
        return DEFAULT_POLICY
    return Policy(
        max_items_on_loan=row.max_items_on_loan,
        hold=timedelta(minutes=row.hold_minutes),
        door_open_timeout=timedelta(seconds=row.door_open_timeout_s),
        overdue_strikes=row.overdue_strikes,
        overdue_window=timedelta(days=row.overdue_window_days),
        suspension=timedelta(days=row.suspension_days),
        escalate_after=timedelta(days=row.escalate_after_days),
        max_renewals=row.max_renewals,
        no_show_strikes=row.no_show_strikes,
    )
