"""Door session: a locker pickup and a locker return as one table.

A locker pickup (``lending_reservations``) and a locker return (``lending_returns``) become
one ``door_sessions`` table with a purpose; the history and the loans point at it. Both old
tables are new in this release and hold no production data, so they are replaced, not
copied: a live pickup or return in a development database is simply gone (its item keeps
its status; staff put a stuck "reserved" item back in service by hand). For the same reason
there is no downgrade. A loan also says whether the locker confirmed it late.

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import booking.core.db

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "state IN ('reserved', 'waiting', 'opening', 'door_open')"
RELEASE_REASONS = (
    'device_offline', 'rejected', 'timed_out', 'jammed', 'door_not_opened', 'item_left_inside',
    'nothing_returned', 'compartment_occupied', 'compartment_not_free', 'hold_expired',
    'cancelled',
)
STATES = ('reserved', 'waiting', 'opening', 'door_open', 'completed', 'released')


def upgrade() -> None:
    op.create_table('door_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('pickup', 'return', name='doorpurpose', native_enum=False, length=32), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum(*STATES, name='doorsessionstate', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('compartment', sa.Integer(), nullable=False),
    sa.Column('command_id', sa.String(length=36), nullable=True),
    sa.Column('opening_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('unlocked_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('door_opened_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('item_inside', sa.Boolean(), nullable=True),
    sa.Column('finished_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('release_reason', sa.Enum(*RELEASE_REASONS, name='releasereason', native_enum=False, length=32), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_door_sessions_item_id_items')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_door_sessions_loan_id_loans')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_door_sessions_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_door_sessions_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_door_sessions'))
    )
    with op.batch_alter_table('door_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_door_sessions_command_id'), ['command_id'], unique=False)
        batch_op.create_index('ix_door_sessions_compartment', ['device_id', 'compartment', 'state'], unique=False)
        batch_op.create_index('ix_door_sessions_resident', ['resident_id', 'state'], unique=False)
        batch_op.create_index('ix_door_sessions_state', ['state', 'expires_at'], unique=False)
        batch_op.create_index('ux_door_sessions_live_item', ['item_id', 'purpose'], unique=True, sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))

    with op.batch_alter_table('lending_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('door_session_id', sa.Integer(), nullable=True))
        batch_op.drop_constraint('fk_lending_events_reservation_id_lending_reservations', type_='foreignkey')
        batch_op.drop_constraint('fk_lending_events_return_id_lending_returns', type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_lending_events_door_session_id_door_sessions'), 'door_sessions', ['door_session_id'], ['id'])
        batch_op.drop_column('reservation_id')
        batch_op.drop_column('return_id')

    with op.batch_alter_table('loans', schema=None) as batch_op:
        # Existing loans were all confirmed on time.
        batch_op.add_column(sa.Column('confirmed_late', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_constraint('fk_loans_reservation_id_lending_reservations', type_='foreignkey')
        batch_op.drop_column('reservation_id')

    # Dropping a table drops its indexes too.
    op.drop_table('lending_returns')
    op.drop_table('lending_reservations')


def downgrade() -> None:
    # The two old tables' rows were not kept (see above), so there is nothing to go back to:
    # restore the backup taken before the upgrade instead.
    raise NotImplementedError("0005 replaced the pickup and return tables; restore a backup")
