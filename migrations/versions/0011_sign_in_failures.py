"""Failed sign-ins counted per client and account, instead of a lock per phone.

The per-phone lock let anyone lock a resident out by typing their phone with wrong PINs,
and did nothing against one client trying common PINs across many phones. Its counts are
not carried over: the new throttle starts from no failures.

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import booking.core.db

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sign_in_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('resident', 'staff', name='signinkind', native_enum=False, length=32), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('client', sa.String(length=80), nullable=False),
    sa.Column('at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures'))
    )
    op.create_index('ix_sign_in_failures_account', 'sign_in_failures', ['kind', 'account', 'client', 'at'], unique=False)
    op.create_index('ix_sign_in_failures_client', 'sign_in_failures', ['client', 'at'], unique=False)
    op.create_index(op.f('ix_sign_in_failures_at'), 'sign_in_failures', ['at'], unique=False)
    op.drop_table('sign_in_throttles')


def downgrade() -> None:
    op.create_table('sign_in_throttles',
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_sign_in_throttles'))
    )
    op.drop_index(op.f('ix_sign_in_failures_at'), table_name='sign_in_failures')
    op.drop_index('ix_sign_in_failures_client', table_name='sign_in_failures')
    op.drop_index('ix_sign_in_failures_account', table_name='sign_in_failures')
    op.drop_table('sign_in_failures')
