"""Scheduled sends once, uptime of the kiosk.

- ``heartbeats`` and ``outages`` name the part of the service (worker, kiosk, database);
  rows from before were all the worker's.
- ``scheduled_sends``: one row per message a scheduled job sent, unique per kind and key.
- ``staff_alerts``: at most one unresolved alert per site and dedupe key. Duplicates left by
  two schedulers running at once are resolved first (the oldest stays open).

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import booking.core.db

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PART = sa.Enum('worker', 'kiosk', 'database', name='servicepart', native_enum=False, length=32)
OPEN_CAUSE = "status != 'resolved' AND dedupe_key IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table('heartbeats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('part', PART, nullable=False, server_default='worker'))
        batch_op.drop_constraint('pk_heartbeats', type_='primary')
        batch_op.create_primary_key('pk_heartbeats', ['site_id', 'part'])
    with op.batch_alter_table('heartbeats', schema=None) as batch_op:
        batch_op.alter_column('part', server_default=None)

    with op.batch_alter_table('outages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('part', PART, nullable=False, server_default='worker'))
    with op.batch_alter_table('outages', schema=None) as batch_op:
        batch_op.alter_column('part', server_default=None)

    op.create_table('scheduled_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('sent_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_scheduled_sends_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_sends')),
    sa.UniqueConstraint('kind', 'key', name=op.f('uq_scheduled_sends_kind'))
    )
    with op.batch_alter_table('scheduled_sends', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_sends_site_id'), ['site_id'], unique=False)

    # Keep the oldest unresolved alert of each cause open; resolve the copies, with a note.
    op.execute(
        sa.text(
            "UPDATE staff_alerts SET status = 'resolved', resolved_at = changed_at, "
            "note = note || :note "
            "WHERE status != 'resolved' AND dedupe_key IS NOT NULL AND EXISTS ("
            "SELECT 1 FROM staff_alerts AS older WHERE older.site_id = staff_alerts.site_id "
            "AND older.dedupe_key = staff_alerts.dedupe_key AND older.status != 'resolved' "
            "AND older.id < staff_alerts.id)"
        ).bindparams(note="\n[migration 0009] a duplicate of an older open alert")
    )
    with op.batch_alter_table('staff_alerts', schema=None) as batch_op:
        batch_op.create_index(
            'ux_staff_alerts_open_cause', ['site_id', 'dedupe_key'], unique=True,
            sqlite_where=sa.text(OPEN_CAUSE), postgresql_where=sa.text(OPEN_CAUSE),
        )


def downgrade() -> None:
    with op.batch_alter_table('staff_alerts', schema=None) as batch_op:
        batch_op.drop_index(
            'ux_staff_alerts_open_cause',
            sqlite_where=sa.text(OPEN_CAUSE), postgresql_where=sa.text(OPEN_CAUSE),
        )
    with op.batch_alter_table('scheduled_sends', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_sends_site_id'))
    op.drop_table('scheduled_sends')
    with op.batch_alter_table('outages', schema=None) as batch_op:
        batch_op.drop_column('part')
    # Only the worker's beats mean what a heartbeat meant before.
    op.execute(sa.text("DELETE FROM heartbeats WHERE part != 'worker'"))
    with op.batch_alter_table('heartbeats', schema=None) as batch_op:
        batch_op.drop_constraint('pk_heartbeats', type_='primary')
        batch_op.create_primary_key('pk_heartbeats', ['site_id'])
        batch_op.drop_column('part')
