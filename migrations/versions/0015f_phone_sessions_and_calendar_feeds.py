"""A resident's page on their own phone: sessions say where they were made (kiosk or phone),
and each resident may have a private calendar feed.

Revision ID: 0015f
Revises: 0014a
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import booking.core.db

revision: str = '0015f'
down_revision: str | None = "0015r"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('resident_sessions') as batch_op:
        batch_op.add_column(sa.Column('channel', sa.Enum('kiosk', 'phone', name='sessionchannel', native_enum=False, length=32), server_default='kiosk', nullable=False))
    op.create_table('calendar_feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('created_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_calendar_feeds_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_calendar_feeds_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feeds')),
    sa.UniqueConstraint('token', name=op.f('uq_calendar_feeds_token'))
    )
    op.create_index(op.f('ix_calendar_feeds_resident_id'), 'calendar_feeds', ['resident_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_calendar_feeds_resident_id'), table_name='calendar_feeds')
    op.drop_table('calendar_feeds')
    with op.batch_alter_table('resident_sessions') as batch_op:
        batch_op.drop_column('channel')
