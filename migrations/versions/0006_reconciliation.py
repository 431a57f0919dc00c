"""Reconciliation of a locker's full state with the records.

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import booking.core.db

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Item statuses are plain text (no native enum, no check): `missing` needs no change here.
    op.create_table('lending_mismatches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('present_during_loan', 'item_absent', name='mismatchkind', native_enum=False, length=32), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('compartment', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=True),
    sa.Column('device_session', sa.BigInteger(), nullable=True),
    sa.Column('device_seq', sa.BigInteger(), nullable=True),
    sa.Column('observed_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.Enum('returned', 'still_out', 'found', 'lost', 'cleared', name='mismatchresolution', native_enum=False, length=32), nullable=True),
    sa.Column('resolved_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['staff_alerts.id'], name=op.f('fk_lending_mismatches_alert_id_staff_alerts')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_lending_mismatches_item_id_items')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_lending_mismatches_loan_id_loans')),
    sa.ForeignKeyConstraint(['resolved_by_staff_id'], ['staff_accounts.id'], name=op.f('fk_lending_mismatches_resolved_by_staff_id_staff_accounts')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_lending_mismatches_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lending_mismatches'))
    )
    with op.batch_alter_table('lending_mismatches', schema=None) as batch_op:
        batch_op.create_index('ix_lending_mismatches_device', ['device_id', 'cleared_at'], unique=False)
        batch_op.create_index('ix_lending_mismatches_site_resolved', ['site_id', 'resolved_at', 'id'], unique=False)
        batch_op.create_index('ux_lending_mismatches_current_item', ['item_id'], unique=True, sqlite_where=sa.text('cleared_at IS NULL'), postgresql_where=sa.text('cleared_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('lending_mismatches', schema=None) as batch_op:
        batch_op.drop_index('ux_lending_mismatches_current_item', sqlite_where=sa.text('cleared_at IS NULL'), postgresql_where=sa.text('cleared_at IS NULL'))
        batch_op.drop_index('ix_lending_mismatches_site_resolved')
        batch_op.drop_index('ix_lending_mismatches_device')

    op.drop_table('lending_mismatches')
