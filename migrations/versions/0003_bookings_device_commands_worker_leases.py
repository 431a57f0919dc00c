"""Bookings, device commands and worker leases.

On PostgreSQL, overlapping active bookings of one seat or room are refused by exclusion
constraints (btree_gist, installed into `public` so every schema sees it).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:51:03.885643
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import booking.core.db

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here rather than imported: a migration must not change when the model does.
ACTIVE_STATUSES = "'checked_in', 'confirmed', 'held', 'on_leave', 'pending'"


def upgrade() -> None:
    op.create_table('device_dead_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=True),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_dead_letters'))
    )
    op.create_index(op.f('ix_device_dead_letters_reason'), 'device_dead_letters', ['reason'], unique=False)
    op.create_index(op.f('ix_device_dead_letters_received_at'), 'device_dead_letters', ['received_at'], unique=False)
    op.create_table('worker_leases',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('acquired_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_worker_leases'))
    )
    op.create_table('booking_suspensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_booking_suspensions_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_booking_suspensions_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_suspensions'))
    )
    op.create_index(op.f('ix_booking_suspensions_resident_id'), 'booking_suspensions', ['resident_id'], unique=False)
    op.create_table('heartbeats',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('first_seen_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_heartbeats_site_id_sites')),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_heartbeats'))
    )
    op.create_table('outages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('started_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_outages_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outages'))
    )
    op.create_index(op.f('ix_outages_site_id'), 'outages', ['site_id'], unique=False)
    op.create_table('booking_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=False),
    sa.Column('created_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_booking_series_dates_ordered')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_booking_series_weekday_valid')),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_accounts.id'], name=op.f('fk_booking_series_created_by_staff_id_staff_accounts')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_booking_series_site_id_sites')),
    sa.ForeignKeyConstraint(['space_id'], ['spaces.id'], name=op.f('fk_booking_series_space_id_spaces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_series'))
    )
    op.create_index(op.f('ix_booking_series_site_id'), 'booking_series', ['site_id'], unique=False)
    op.create_table('closures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('space_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=False),
    sa.Column('created_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_closures_period_not_empty')),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_accounts.id'], name=op.f('fk_closures_created_by_staff_id_staff_accounts')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_closures_site_id_sites')),
    sa.ForeignKeyConstraint(['space_id'], ['spaces.id'], name=op.f('fk_closures_space_id_spaces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closures'))
    )
    op.create_index(op.f('ix_closures_site_id'), 'closures', ['site_id'], unique=False)
    op.create_table('device_commands',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('site', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('created', 'sent', 'accepted', 'succeeded', 'failed', 'rejected', 'timed_out', name='commandstate', native_enum=False, length=32), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('send_count', sa.Integer(), nullable=False),
    sa.Column('last_sent_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.device_id'], name=op.f('fk_device_commands_device_id_devices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_commands'))
    )
    op.create_index(op.f('ix_device_commands_device_id'), 'device_commands', ['device_id'], unique=False)
    op.create_index(op.f('ix_device_commands_state'), 'device_commands', ['state'], unique=False)
    op.create_table('device_compartments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('lock', sa.Enum('locked', 'unlocked', 'locking', 'unlocking', 'jammed', 'open', name='lockstate', native_enum=False, length=32), nullable=True),
    sa.Column('door', sa.Enum('open', 'closed', name='doorstate', native_enum=False, length=32), nullable=True),
    sa.Column('item_present', sa.Boolean(), nullable=True),
    sa.Column('lock_version', sa.BigInteger(), nullable=False),
    sa.Column('door_version', sa.BigInteger(), nullable=False),
    sa.Column('item_version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.device_id'], name=op.f('fk_device_compartments_device_id_devices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_compartments')),
    sa.UniqueConstraint('device_id', 'n', name=op.f('uq_device_compartments_device_id'))
    )
    op.create_table('device_faults',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('compartment', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('jammed', 'door_left_open', 'forced_open', name='faultkind', native_enum=False, length=32), nullable=False),
    sa.Column('opened_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.device_id'], name=op.f('fk_device_faults_device_id_devices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_faults'))
    )
    op.create_index(op.f('ix_device_faults_closed_at'), 'device_faults', ['closed_at'], unique=False)
    op.create_index(op.f('ix_device_faults_device_id'), 'device_faults', ['device_id'], unique=False)
    op.create_table('device_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('session', sa.BigInteger(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('event_type', sa.String(length=32), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('device_ts', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.device_id'], name=op.f('fk_device_messages_device_id_devices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device_messages')),
    sa.UniqueConstraint('device_id', 'session', 'seq', name=op.f('uq_device_messages_device_id'))
    )
    op.create_index(op.f('ix_device_messages_event_type'), 'device_messages', ['event_type'], unique=False)
    op.create_table('space_rules',
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('bookable_days', sa.Integer(), nullable=True),
    sa.Column('grid_minutes', sa.Integer(), nullable=True),
    sa.Column('max_booking_minutes', sa.Integer(), nullable=True),
    sa.Column('max_minutes_per_day', sa.Integer(), nullable=True),
    sa.Column('check_in_early_minutes', sa.Integer(), nullable=True),
    sa.Column('check_in_late_minutes', sa.Integer(), nullable=True),
    sa.Column('max_leave_minutes', sa.Integer(), nullable=True),
    sa.Column('strikes_to_suspend', sa.Integer(), nullable=True),
    sa.Column('strike_window_days', sa.Integer(), nullable=True),
    sa.Column('suspension_days', sa.Integer(), nullable=True),
    sa.Column('offer_minutes', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['space_id'], ['spaces.id'], name=op.f('fk_space_rules_space_id_spaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('space_id', name=op.f('pk_space_rules'))
    )
    op.create_table('series_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['series_id'], ['booking_series.id'], name=op.f('fk_series_exceptions_series_id_booking_series'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_series_exceptions')),
    sa.UniqueConstraint('series_id', 'on_date', name=op.f('uq_series_exceptions_series_id'))
    )
    op.create_table('waitlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('seat_id', sa.Integer(), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'offered', 'accepted', 'expired', 'cancelled', name='waitliststatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('offered_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_waitlist_entries_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seat_id'], ['seats.id'], name=op.f('fk_waitlist_entries_seat_id_seats')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_waitlist_entries_site_id_sites')),
    sa.ForeignKeyConstraint(['space_id'], ['spaces.id'], name=op.f('fk_waitlist_entries_space_id_spaces')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entries'))
    )
    op.create_index('ix_waitlist_entries_queue', 'waitlist_entries', ['space_id', 'seat_id', 'status'], unique=False)
    op.create_index(op.f('ix_waitlist_entries_resident_id'), 'waitlist_entries', ['resident_id'], unique=False)
    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('seat_id', sa.Integer(), nullable=True),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('held', 'pending', 'confirmed', 'checked_in', 'on_leave', 'completed', 'cancelled', 'rejected', 'no_show', 'released', 'expired', name='bookingstatus', native_enum=False, length=32), nullable=False),
    sa.Column('starts_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('walk_in', sa.Boolean(), nullable=False),
    sa.Column('created_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('checked_in_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('leave_started_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('decided_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('hold_expires_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('waitlist_entry_id', sa.Integer(), nullable=True),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('occurs_on', sa.Date(), nullable=True),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_bookings_period_not_empty')),
    sa.CheckConstraint('headcount >= 1', name=op.f('ck_bookings_headcount_positive')),
    sa.ForeignKeyConstraint(['decided_by_staff_id'], ['staff_accounts.id'], name=op.f('fk_bookings_decided_by_staff_id_staff_accounts')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_bookings_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seat_id'], ['seats.id'], name=op.f('fk_bookings_seat_id_seats')),
    sa.ForeignKeyConstraint(['series_id'], ['booking_series.id'], name=op.f('fk_bookings_series_id_booking_series')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_bookings_site_id_sites')),
    sa.ForeignKeyConstraint(['space_id'], ['spaces.id'], name=op.f('fk_bookings_space_id_spaces')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_accounts.id'], name=op.f('fk_bookings_staff_id_staff_accounts')),
    sa.ForeignKeyConstraint(['waitlist_entry_id'], ['waitlist_entries.id'], name=op.f('fk_bookings_waitlist_entry_id_waitlist_entries'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('series_id', 'occurs_on', name=op.f('uq_bookings_series_id'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public")
        for name, resource, seat_filter in (
            ("ex_bookings_seat_overlap", "seat_id", "seat_id IS NOT NULL"),
            ("ex_bookings_room_overlap", "space_id", "seat_id IS NULL"),
        ):
            op.execute(
                f"ALTER TABLE bookings ADD CONSTRAINT {name} EXCLUDE USING gist "
                f"({resource} WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
                f"WHERE ({seat_filter} AND status IN ({ACTIVE_STATUSES}))"
            )
    op.create_index(op.f('ix_bookings_resident_id'), 'bookings', ['resident_id'], unique=False)
    op.create_index('ix_bookings_seat_period', 'bookings', ['seat_id', 'starts_at'], unique=False)
    op.create_index(op.f('ix_bookings_site_id'), 'bookings', ['site_id'], unique=False)
    op.create_index('ix_bookings_space_period', 'bookings', ['space_id', 'starts_at'], unique=False)
    op.create_index(op.f('ix_bookings_status'), 'bookings', ['status'], unique=False)
    op.create_table('no_show_strikes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('given_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('suspension_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_no_show_strikes_booking_id_bookings')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_no_show_strikes_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_no_show_strikes_site_id_sites')),
    sa.ForeignKeyConstraint(['suspension_id'], ['booking_suspensions.id'], name=op.f('fk_no_show_strikes_suspension_id_booking_suspensions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_no_show_strikes')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_no_show_strikes_booking_id'))
    )
    op.create_index(op.f('ix_no_show_strikes_resident_id'), 'no_show_strikes', ['resident_id'], unique=False)
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('booking_approved', 'booking_rejected', 'closure', 'waitlist_offer', 'no_show', 'suspended', name='notificationkind', native_enum=False, length=32), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('closure_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.Column('created_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_notifications_booking_id_bookings')),
    sa.ForeignKeyConstraint(['closure_id'], ['closures.id'], name=op.f('fk_notifications_closure_id_closures')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_notifications_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_notifications_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('resident_id', 'closure_id', name=op.f('uq_notifications_resident_id'))
    )
    op.create_index(op.f('ix_notifications_resident_id'), 'notifications', ['resident_id'], unique=False)
    op.add_column('devices', sa.Column('heartbeat_s', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('devices', 'heartbeat_s')
    op.drop_index(op.f('ix_notifications_resident_id'), table_name='notifications')
    op.drop_table('notifications')
    op.drop_index(op.f('ix_no_show_strikes_resident_id'), table_name='no_show_strikes')
    op.drop_table('no_show_strikes')
    op.drop_index(op.f('ix_bookings_status'), table_name='bookings')
    op.drop_index('ix_bookings_space_period', table_name='bookings')
    op.drop_index(op.f('ix_bookings_site_id'), table_name='bookings')
    op.drop_index('ix_bookings_seat_period', table_name='bookings')
    op.drop_index(op.f('ix_bookings_resident_id'), table_name='bookings')
    op.drop_table('bookings')
    op.drop_index(op.f('ix_waitlist_entries_resident_id'), table_name='waitlist_entries')
    op.drop_index('ix_waitlist_entries_queue', table_name='waitlist_entries')
    op.drop_table('waitlist_entries')
    op.drop_table('series_exceptions')
    op.drop_table('space_rules')
    op.drop_index(op.f('ix_device_messages_event_type'), table_name='device_messages')
    op.drop_table('device_messages')
    op.drop_index(op.f('ix_device_faults_device_id'), table_name='device_faults')
    op.drop_index(op.f('ix_device_faults_closed_at'), table_name='device_faults')
    op.drop_table('device_faults')
    op.drop_table('device_compartments')
    op.drop_index(op.f('ix_device_commands_state'), table_name='device_commands')
    op.drop_index(op.f('ix_device_commands_device_id'), table_name='device_commands')
    op.drop_table('device_commands')
    op.drop_index(op.f('ix_closures_site_id'), table_name='closures')
    op.drop_table('closures')
    op.drop_index(op.f('ix_booking_series_site_id'), table_name='booking_series')
    op.drop_table('booking_series')
    op.drop_index(op.f('ix_outages_site_id'), table_name='outages')
    op.drop_table('outages')
    op.drop_table('heartbeats')
    op.drop_index(op.f('ix_booking_suspensions_resident_id'), table_name='booking_suspensions')
    op.drop_table('booking_suspensions')
    op.drop_table('worker_leases')
    op.drop_index(op.f('ix_device_dead_letters_received_at'), table_name='device_dead_letters')
    op.drop_index(op.f('ix_device_dead_letters_reason'), table_name='device_dead_letters')
    op.drop_table('device_dead_letters')
