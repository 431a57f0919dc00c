"""Device protocol: counter resets, clock faults, dead-letter retention.

Dead letters learn which site they came from, whether they may hold health data and the
card they name, so the health retention purge and a withdrawal of consent reach them. The
new fault kinds (device_clock, session_behind) need nothing: fault kinds are plain text.

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('device_dead_letters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('site_id', sa.Integer(), nullable=True))
        # Letters stored before this revision were never sorted: any may hold a reading, so
        # they all fall under the health retention period.
        batch_op.add_column(
            sa.Column('health_data', sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column('card_id', sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_device_dead_letters_card_id'), ['card_id'], unique=False
        )
    with op.batch_alter_table('device_dead_letters', schema=None) as batch_op:
        batch_op.alter_column('health_data', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('device_dead_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_dead_letters_card_id'))
        batch_op.drop_column('card_id')
        batch_op.drop_column('health_data')
        batch_op.drop_column('site_id')
