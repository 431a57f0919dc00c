"""Residents enrolled in the console: who they are at the desk, and one-time codes with which
they choose their own PIN (none until then).

Revision ID: 0014e
Revises: 0014c
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import booking.core.db

revision: str = '0014e'
down_revision: str | None = '0014c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('residents') as batch_op:
        batch_op.alter_column('pin_hash', existing_type=sa.String(length=200), nullable=True)
        batch_op.add_column(sa.Column('birth_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('building', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('unit', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('room', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('emergency_contact_name', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('emergency_contact_phone', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('preferred_language', sa.String(length=8), server_default='zh_CN', nullable=False))
    op.create_table('resident_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('enrol', 'pin_reset', name='codepurpose', native_enum=False, length=32), nullable=False),
    sa.Column('code_hash', sa.String(length=200), nullable=False),
    sa.Column('issued_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('used_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('voided_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['issued_by_staff_id'], ['staff_accounts.id'], name=op.f('fk_resident_codes_issued_by_staff_id_staff_accounts')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_resident_codes_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_resident_codes_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident_codes'))
    )
    op.create_index(op.f('ix_resident_codes_resident_id'), 'resident_codes', ['resident_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_resident_codes_resident_id'), table_name='resident_codes')
    op.drop_table('resident_codes')
    # The old schema needs a PIN hash: one that no PIN matches keeps such residents out, as now.
    op.execute("UPDATE residents SET pin_hash = '!' WHERE pin_hash IS NULL")
    with op.batch_alter_table('residents') as batch_op:
        batch_op.drop_column('preferred_language')
        batch_op.drop_column('emergency_contact_phone')
        batch_op.drop_column('emergency_contact_name')
        batch_op.drop_column('room')
        batch_op.drop_column('unit')
        batch_op.drop_column('building')
        batch_op.drop_column('birth_year')
        batch_op.alter_column('pin_hash', existing_type=sa.String(length=200), nullable=False)
