"""A device's state version: the (session, seq) of the newest full state applied, which spoke
of every compartment. A compartment field is as new as this or its own version, whichever is
newer, so a state writes only the fields it changes (devices.fleet.registry).

Revision ID: 0019v
Revises: 0018g
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019v"
down_revision: str | None = "0018g"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch_op:
        batch_op.add_column(
            sa.Column("state_version", sa.BigInteger(), server_default="-1", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch_op:
        batch_op.drop_column("state_version")
