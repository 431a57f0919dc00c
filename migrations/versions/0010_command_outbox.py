"""Commands handed from the web to the worker through the database.

The web writes a command and its outbox row in one transaction; only the worker's bridge
publishes. The bridge keeps a row per site saying whether it runs and is connected, so the
kiosk offers a locker only while someone records what the locker answers.

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import booking.core.db

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('device_command_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('command_id', sa.String(length=36), nullable=False),
    sa.Column('site', sa.String(length=40), nullable=False),
    sa.Column('queued_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['command_id'], ['device_commands.id'], name=op.f('fk_device_command_outbox_command_id_device_commands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_command_outbox'))
    )
    op.create_index(op.f('ix_device_command_outbox_command_id'), 'device_command_outbox', ['command_id'], unique=False)
    op.create_index(op.f('ix_device_command_outbox_site'), 'device_command_outbox', ['site'], unique=False)
    op.create_table('device_links',
    sa.Column('site', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.String(length=100), nullable=False),
    sa.Column('state', sa.Enum('connected', 'disconnected', 'stopped', name='linkstate', native_enum=False, length=32), nullable=False),
    sa.Column('changed_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('beat_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('site', name=op.f('pk_device_links'))
    )


def downgrade() -> None:
    op.drop_table('device_links')
    op.drop_index(op.f('ix_device_command_outbox_site'), table_name='device_command_outbox')
    op.drop_index(op.f('ix_device_command_outbox_command_id'), table_name='device_command_outbox')
    op.drop_table('device_command_outbox')
