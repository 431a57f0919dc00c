"""A district's residents use any of its centres: a membership may be a visitor's (the centre
did not enrol them; their home centre is their first membership as a member).

Revision ID: 0016e
Revises: 0015t
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016e"
down_revision: str | None = "0015t"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("resident_memberships") as batch_op:
        batch_op.add_column(
            sa.Column("visitor", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("resident_memberships") as batch_op:
        batch_op.drop_column("visitor")
