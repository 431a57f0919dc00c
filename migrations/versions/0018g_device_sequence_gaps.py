"""A device's open seq gap: the session, the first and last missing seq and when the ingest
noticed it. The resync waits a moment for the missing messages, which another worker may be
applying (docs/scaling.md, item 3); the scheduler's job finds the open gaps by the index.

Revision ID: 0018g
Revises: 0017r
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import booking.core.db

revision: str = "0018g"
down_revision: str | None = "0017r"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch_op:
        batch_op.add_column(sa.Column("gap_session", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("gap_first_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("gap_last_seq", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("gap_noticed_at", booking.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_devices_gap_noticed_at", ["gap_noticed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch_op:
        batch_op.drop_index("ix_devices_gap_noticed_at")
        batch_op.drop_column("gap_noticed_at")
        batch_op.drop_column("gap_last_seq")
        batch_op.drop_column("gap_first_seq")
        batch_op.drop_column("gap_session")
