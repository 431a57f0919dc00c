"""A device whose broker credentials staff revoked in the console: it may not sign in until
it is given new ones.

Revision ID: 0014d
Revises: 0014s
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import booking.core.db

revision: str = '0014d'
down_revision: str | None = '0014s'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('devices') as batch_op:
        batch_op.add_column(sa.Column('credentials_revoked_at', booking.core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('devices') as batch_op:
        batch_op.drop_column('credentials_revoked_at')
