"""Residents whose PIN was set before the PIN policy change it at their next sign-in.

Revision ID: 0013
Revises: 0012
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('residents') as batch_op:
        batch_op.add_column(sa.Column('pin_change_required', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('residents') as batch_op:
        batch_op.drop_column('pin_change_required')
