"""Residents' accounts: deactivation, erasure, merging, and card binds at a terminal.

Revision ID: 0014a
Revises: 0014e
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import booking.core.db

revision: str = '0014a'
down_revision: str | None = '0014e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('residents') as batch_op:
        batch_op.add_column(sa.Column('deactivated_at', booking.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deactivation_reason', sa.Enum('moved_away', 'deceased', 'other', 'merged', name='deactivationreason', native_enum=False, length=32), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('erased_at', booking.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_residents_merged_into_id_residents'), 'residents', ['merged_into_id'], ['id'], ondelete='SET NULL')
    op.create_table('card_binds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'bound', 'refused', 'expired', 'cancelled', name='cardbindstatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failure', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_card_binds_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_card_binds_site_id_sites')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_accounts.id'], name=op.f('fk_card_binds_staff_id_staff_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_binds'))
    )
    op.create_index('ix_card_binds_device_status', 'card_binds', ['device_id', 'status'], unique=False)
    op.create_index(op.f('ix_card_binds_resident_id'), 'card_binds', ['resident_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_card_binds_resident_id'), table_name='card_binds')
    op.drop_index('ix_card_binds_device_status', table_name='card_binds')
    op.drop_table('card_binds')
    with op.batch_alter_table('residents') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_residents_merged_into_id_residents'), type_='foreignkey')
        batch_op.drop_column('erased_at')
        batch_op.drop_column('merged_into_id')
        batch_op.drop_column('deactivation_reason')
        batch_op.drop_column('deactivated_at')
