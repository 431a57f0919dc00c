"""Staff alerts, audit log, lending, health, suspension lifts, retirement of spaces and tools.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:21:07.604577
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import booking.core.db

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bp_readings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('identified_by', sa.String(length=10), nullable=False),
    sa.Column('systolic', sa.Double(), nullable=False),
    sa.Column('diastolic', sa.Double(), nullable=False),
    sa.Column('mean_arterial_pressure', sa.Double(), nullable=False),
    sa.Column('pulse', sa.Integer(), nullable=True),
    sa.Column('device_unit', sa.String(length=8), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('measured_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ruleset', sa.String(length=20), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('isolated_systolic', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_bp_readings_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_bp_readings_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bp_readings')),
    sa.UniqueConstraint('device_id', 'measured_at', name='uq_bp_readings_device_measured')
    )
    with op.batch_alter_table('bp_readings', schema=None) as batch_op:
        batch_op.create_index('ix_bp_readings_measured', ['measured_at'], unique=False)
        batch_op.create_index('ix_bp_readings_resident_measured', ['resident_id', 'measured_at'], unique=False)

    op.create_table('health_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('given_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.Enum('kiosk', 'paper', name='consentchannel', native_enum=False, length=32), nullable=False),
    sa.Column('notice_version', sa.String(length=20), nullable=False),
    sa.Column('withdrawn_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_channel', sa.Enum('kiosk', 'paper', name='consentchannel', native_enum=False, length=32), nullable=True),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_health_consents_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_health_consents_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_consents'))
    )
    with op.batch_alter_table('health_consents', schema=None) as batch_op:
        batch_op.create_index('ix_health_consents_resident', ['resident_id', 'withdrawn_at'], unique=False)

    op.create_table('health_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('ruleset', sa.String(length=20), nullable=False),
    sa.Column('retention_days', sa.Integer(), nullable=False),
    sa.Column('updated_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_health_settings_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_settings')),
    sa.UniqueConstraint('site_id', name=op.f('uq_health_settings_site_id'))
    )
    op.create_table('lending_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('max_items_on_loan', sa.Integer(), nullable=False),
    sa.Column('hold_minutes', sa.Integer(), nullable=False),
    sa.Column('door_open_timeout_s', sa.Integer(), nullable=False),
    sa.Column('overdue_strikes', sa.Integer(), nullable=False),
    sa.Column('overdue_window_days', sa.Integer(), nullable=False),
    sa.Column('suspension_days', sa.Integer(), nullable=False),
    sa.Column('escalate_after_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_lending_policies_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lending_policies')),
    sa.UniqueConstraint('site_id', name=op.f('uq_lending_policies_site_id'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('subject', sa.String(length=80), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_audit_log_site_id_sites')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_accounts.id'], name=op.f('fk_audit_log_staff_id_staff_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_actor'), ['actor'], unique=False)
        batch_op.create_index('ix_audit_log_site_at', ['site_id', 'at'], unique=False)

    op.create_table('bp_terminal_pairings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'measuring', 'done', 'failed', 'expired', 'cancelled', name='pairingstatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('measuring_since', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reading_id', sa.Integer(), nullable=True),
    sa.Column('failure', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['reading_id'], ['bp_readings.id'], name=op.f('fk_bp_terminal_pairings_reading_id_bp_readings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_bp_terminal_pairings_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_bp_terminal_pairings_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bp_terminal_pairings'))
    )
    with op.batch_alter_table('bp_terminal_pairings', schema=None) as batch_op:
        batch_op.create_index('ix_bp_pairings_device_status', ['device_id', 'status'], unique=False)

    op.create_table('lending_suspensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=100), nullable=False),
    sa.Column('lifted_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('lift_reason', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['lifted_by_staff_id'], ['staff_accounts.id'], name=op.f('fk_lending_suspensions_lifted_by_staff_id_staff_accounts')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_lending_suspensions_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_lending_suspensions_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lending_suspensions'))
    )
    with op.batch_alter_table('lending_suspensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lending_suspensions_resident_id'), ['resident_id'], unique=False)

    op.create_table('staff_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('severity', sa.Enum('urgent', 'warning', 'info', name='alertseverity', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('open', 'acknowledged', 'resolved', name='alertstatus', native_enum=False, length=32), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('subject', sa.String(length=80), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=120), nullable=True),
    sa.Column('created_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('changed_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['acknowledged_by_staff_id'], ['staff_accounts.id'], name=op.f('fk_staff_alerts_acknowledged_by_staff_id_staff_accounts')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_staff_alerts_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by_staff_id'], ['staff_accounts.id'], name=op.f('fk_staff_alerts_resolved_by_staff_id_staff_accounts')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_staff_alerts_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_alerts'))
    )
    with op.batch_alter_table('staff_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_staff_alerts_dedupe', ['site_id', 'dedupe_key'], unique=False)
        batch_op.create_index('ix_staff_alerts_site_changed', ['site_id', 'changed_at'], unique=False)
        batch_op.create_index('ix_staff_alerts_site_status', ['site_id', 'status'], unique=False)

    op.create_table('lending_reservations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('reserved', 'opening', 'door_open', 'completed', 'released', name='reservationstate', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=True),
    sa.Column('compartment', sa.Integer(), nullable=True),
    sa.Column('command_id', sa.String(length=36), nullable=True),
    sa.Column('opening_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('unlocked_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('door_opened_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('release_reason', sa.Enum('device_offline', 'rejected', 'timed_out', 'jammed', 'door_not_opened', 'item_left_inside', 'nothing_returned', 'compartment_occupied', 'hold_expired', 'cancelled', name='releasereason', native_enum=False, length=32), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_lending_reservations_item_id_items')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_lending_reservations_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_lending_reservations_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lending_reservations'))
    )
    with op.batch_alter_table('lending_reservations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lending_reservations_command_id'), ['command_id'], unique=False)
        batch_op.create_index('ix_lending_reservations_resident', ['resident_id', 'state'], unique=False)
        batch_op.create_index('ix_lending_reservations_state', ['state', 'expires_at'], unique=False)
        batch_op.create_index('ux_lending_reservations_live_item', ['item_id'], unique=True, sqlite_where=sa.text("state IN ('reserved', 'opening', 'door_open')"), postgresql_where=sa.text("state IN ('reserved', 'opening', 'door_open')"))

    op.create_table('loans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('tool_type_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('locker', 'counter', name='loanchannel', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('active', 'overdue', 'returned', 'lost', name='loanstatus', native_enum=False, length=32), nullable=False),
    sa.Column('started_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('returned_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reservation_id', sa.Integer(), nullable=True),
    sa.Column('lent_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('returned_to_staff_id', sa.Integer(), nullable=True),
    sa.Column('return_condition', sa.Enum('fine', 'damaged', 'parts_missing', name='returncondition', native_enum=False, length=32), nullable=True),
    sa.Column('return_note', sa.Text(), nullable=False),
    sa.Column('overdue_since', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('suspension_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_loans_item_id_items')),
    sa.ForeignKeyConstraint(['lent_by_staff_id'], ['staff_accounts.id'], name=op.f('fk_loans_lent_by_staff_id_staff_accounts')),
    sa.ForeignKeyConstraint(['reservation_id'], ['lending_reservations.id'], name=op.f('fk_loans_reservation_id_lending_reservations')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_loans_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['returned_to_staff_id'], ['staff_accounts.id'], name=op.f('fk_loans_returned_to_staff_id_staff_accounts')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_loans_site_id_sites')),
    sa.ForeignKeyConstraint(['suspension_id'], ['lending_suspensions.id'], name=op.f('fk_loans_suspension_id_lending_suspensions')),
    sa.ForeignKeyConstraint(['tool_type_id'], ['tool_types.id'], name=op.f('fk_loans_tool_type_id_tool_types')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loans'))
    )
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.create_index('ix_loans_item_started', ['item_id', 'started_at'], unique=False)
        batch_op.create_index('ix_loans_resident_started', ['resident_id', 'started_at'], unique=False)
        batch_op.create_index('ix_loans_site_started', ['site_id', 'started_at', 'id'], unique=False)
        batch_op.create_index('ix_loans_site_status_due', ['site_id', 'status', 'due_at'], unique=False)
        batch_op.create_index('ix_loans_tool_type_started', ['tool_type_id', 'started_at'], unique=False)
        batch_op.create_index('ux_loans_open_item', ['item_id'], unique=True, sqlite_where=sa.text("returned_at IS NULL AND status != 'lost'"), postgresql_where=sa.text("returned_at IS NULL AND status != 'lost'"))

    op.create_table('lending_returns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('opening', 'door_open', 'returned', 'released', name='returnstate', native_enum=False, length=32), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('compartment', sa.Integer(), nullable=False),
    sa.Column('command_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('unlocked_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('door_opened_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('item_seen', sa.Boolean(), nullable=False),
    sa.Column('finished_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('release_reason', sa.Enum('device_offline', 'rejected', 'timed_out', 'jammed', 'door_not_opened', 'item_left_inside', 'nothing_returned', 'compartment_occupied', 'hold_expired', 'cancelled', name='releasereason', native_enum=False, length=32), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_lending_returns_item_id_items')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_lending_returns_loan_id_loans')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_lending_returns_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_lending_returns_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lending_returns'))
    )
    with op.batch_alter_table('lending_returns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lending_returns_command_id'), ['command_id'], unique=False)
        batch_op.create_index('ix_lending_returns_state', ['state'], unique=False)
        batch_op.create_index('ux_lending_returns_live_loan', ['loan_id'], unique=True, sqlite_where=sa.text("state IN ('opening', 'door_open')"), postgresql_where=sa.text("state IN ('opening', 'door_open')"))

    op.create_table('lending_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('item_status', sa.Enum('available', 'reserved', 'on_loan', 'overdue', 'maintenance', 'lost', name='itemstatus', native_enum=False, length=32), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=True),
    sa.Column('loan_status', sa.Enum('active', 'overdue', 'returned', 'lost', name='loanstatus', native_enum=False, length=32), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('reservation_id', sa.Integer(), nullable=True),
    sa.Column('return_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('action', sa.Enum('reserved', 'open_requested', 'door_opened', 'door_closed', 'reservation_released', 'lent', 'return_released', 'returned', 'condition_reported', 'to_maintenance', 'back_in_service', 'marked_overdue', 'overdue_escalated', 'marked_lost', 'door_left_open', 'forced_open', 'item_missing', 'unexpected_item', 'jammed', 'maintenance_open', name='lendingaction', native_enum=False, length=32), nullable=False),
    sa.Column('device_command_id', sa.String(length=36), nullable=True),
    sa.Column('device_id', sa.String(length=40), nullable=True),
    sa.Column('device_session', sa.BigInteger(), nullable=True),
    sa.Column('device_seq', sa.BigInteger(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_lending_events_item_id_items')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_lending_events_loan_id_loans')),
    sa.ForeignKeyConstraint(['reservation_id'], ['lending_reservations.id'], name=op.f('fk_lending_events_reservation_id_lending_reservations')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_lending_events_resident_id_residents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['return_id'], ['lending_returns.id'], name=op.f('fk_lending_events_return_id_lending_returns')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_lending_events_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lending_events'))
    )
    with op.batch_alter_table('lending_events', schema=None) as batch_op:
        batch_op.create_index('ix_lending_events_item_at', ['item_id', 'at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lending_events_loan_id'), ['loan_id'], unique=False)
        batch_op.create_index('ix_lending_events_resident_at', ['resident_id', 'at'], unique=False)
        batch_op.create_index('ix_lending_events_site_at', ['site_id', 'at'], unique=False)

    with op.batch_alter_table('booking_suspensions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lifted_at', booking.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lifted_by_staff_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lift_reason', sa.String(length=300), nullable=False, server_default=''))
        batch_op.create_foreign_key(batch_op.f('fk_booking_suspensions_lifted_by_staff_id_staff_accounts'), 'staff_accounts', ['lifted_by_staff_id'], ['id'])

    with op.batch_alter_table('spaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', booking.core.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('tool_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', booking.core.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('tool_types', schema=None) as batch_op:
        batch_op.drop_column('retired_at')

    with op.batch_alter_table('spaces', schema=None) as batch_op:
        batch_op.drop_column('retired_at')

    with op.batch_alter_table('booking_suspensions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_booking_suspensions_lifted_by_staff_id_staff_accounts'), type_='foreignkey')
        batch_op.drop_column('lift_reason')
        batch_op.drop_column('lifted_by_staff_id')
        batch_op.drop_column('lifted_at')

    with op.batch_alter_table('lending_events', schema=None) as batch_op:
        batch_op.drop_index('ix_lending_events_site_at')
        batch_op.drop_index('ix_lending_events_resident_at')
        batch_op.drop_index(batch_op.f('ix_lending_events_loan_id'))
        batch_op.drop_index('ix_lending_events_item_at')

    op.drop_table('lending_events')
    with op.batch_alter_table('lending_returns', schema=None) as batch_op:
        batch_op.drop_index('ux_lending_returns_live_loan', sqlite_where=sa.text("state IN ('opening', 'door_open')"), postgresql_where=sa.text("state IN ('opening', 'door_open')"))
        batch_op.drop_index('ix_lending_returns_state')
        batch_op.drop_index(batch_op.f('ix_lending_returns_command_id'))

    op.drop_table('lending_returns')
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_index('ux_loans_open_item', sqlite_where=sa.text("returned_at IS NULL AND status != 'lost'"), postgresql_where=sa.text("returned_at IS NULL AND status != 'lost'"))
        batch_op.drop_index('ix_loans_tool_type_started')
        batch_op.drop_index('ix_loans_site_status_due')
        batch_op.drop_index('ix_loans_site_started')
        batch_op.drop_index('ix_loans_resident_started')
        batch_op.drop_index('ix_loans_item_started')

    op.drop_table('loans')
    with op.batch_alter_table('lending_reservations', schema=None) as batch_op:
        batch_op.drop_index('ux_lending_reservations_live_item', sqlite_where=sa.text("state IN ('reserved', 'opening', 'door_open')"), postgresql_where=sa.text("state IN ('reserved', 'opening', 'door_open')"))
        batch_op.drop_index('ix_lending_reservations_state')
        batch_op.drop_index('ix_lending_reservations_resident')
        batch_op.drop_index(batch_op.f('ix_lending_reservations_command_id'))

    op.drop_table('lending_reservations')
    with op.batch_alter_table('staff_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_alerts_site_status')
        batch_op.drop_index('ix_staff_alerts_site_changed')
        batch_op.drop_index('ix_staff_alerts_dedupe')

    op.drop_table('staff_alerts')
    with op.batch_alter_table('lending_suspensions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lending_suspensions_resident_id'))

    op.drop_table('lending_suspensions')
    with op.batch_alter_table('bp_terminal_pairings', schema=None) as batch_op:
        batch_op.drop_index('ix_bp_pairings_device_status')

    op.drop_table('bp_terminal_pairings')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_site_at')
        batch_op.drop_index(batch_op.f('ix_audit_log_actor'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
    op.drop_table('lending_policies')
    op.drop_table('health_settings')
    with op.batch_alter_table('health_consents', schema=None) as batch_op:
        batch_op.drop_index('ix_health_consents_resident')

    op.drop_table('health_consents')
    with op.batch_alter_table('bp_readings', schema=None) as batch_op:
        batch_op.drop_index('ix_bp_readings_resident_measured')
        batch_op.drop_index('ix_bp_readings_measured')

    op.drop_table('bp_readings')
