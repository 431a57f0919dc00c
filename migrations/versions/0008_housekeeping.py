"""Retention of device messages, commands and ended sessions.

The retention job deletes old rows of the device ledger; each device remembers the newest
(session, seq) whose row may be gone, so a message re-sent from before it is never applied
twice (devices/fleet/retention.py).

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ledger_pruned_through', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('ledger_pruned_through')
