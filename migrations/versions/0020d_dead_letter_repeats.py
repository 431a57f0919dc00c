"""A refused device message that comes again is the same dead letter, counted: a device
re-sends an unacknowledged event every 60 s at most and after every reconnect, so one stuck
message made a letter each time. ``digest`` (SHA-256 of topic and payload) finds it.

Letters kept before this revision have no digest and are never matched: each stays as it is.

Revision ID: 0020d
Revises: 0019v
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020d"
down_revision: str | None = "0019v"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("device_dead_letters") as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("repeats", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index(batch_op.f("ix_device_dead_letters_digest"), ["digest"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("device_dead_letters") as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_dead_letters_digest"))
        batch_op.drop_column("repeats")
        batch_op.drop_column("digest")
