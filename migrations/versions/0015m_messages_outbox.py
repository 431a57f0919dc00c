"""Messages to residents: the outbox, their choices per kind, and quiet hours

Revision ID: 0015m
Revises: 0014a
Create Date: 2026-12-04 11:52:26.477670
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import booking.core.db

revision: str = '0015m'
down_revision: str | None = '0014a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('message_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('sms', sa.Boolean(), nullable=False),
    sa.Column('changed_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_staff_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['recorded_by_staff_id'], ['staff_accounts.id'], name=op.f('fk_message_preferences_recorded_by_staff_id_staff_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_message_preferences_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_preferences')),
    sa.UniqueConstraint('resident_id', 'kind', name=op.f('uq_message_preferences_resident_id'))
    )
    with op.batch_alter_table('message_preferences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_preferences_resident_id'), ['resident_id'], unique=False)

    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('to_contact', sa.Boolean(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('ignores_quiet_hours', sa.Boolean(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('queued', 'sending', 'sent', 'retrying', 'gave_up', name='messagestate', native_enum=False, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sending_since', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('gave_up_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=False),
    sa.Column('provider_ref', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_outbox_messages_notification_id_notifications'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_outbox_messages_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_outbox_messages_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_state'), ['state'], unique=False)

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quiet_from', sa.Time(), server_default='21:00:00', nullable=False))
        batch_op.add_column(sa.Column('quiet_until', sa.Time(), server_default='08:00:00', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('quiet_until')
        batch_op.drop_column('quiet_from')

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_state'))
        batch_op.drop_index(batch_op.f('ix_outbox_messages_site_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_messages_resident_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_messages_next_attempt_at'))

    op.drop_table('outbox_messages')
    with op.batch_alter_table('message_preferences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_preferences_resident_id'))

    op.drop_table('message_preferences')
