"""A locker pickup started by staff for a resident (at the counter, on the phone) names the
staff member, so the loan the locker confirms says "lent by staff X for resident Y".

Revision ID: 0014c
Revises: 0014d
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014c'
down_revision: str | None = '0014d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('door_sessions') as batch_op:
        batch_op.add_column(sa.Column('requested_by_staff_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_door_sessions_requested_by_staff_id_staff_accounts'),
            'staff_accounts', ['requested_by_staff_id'], ['id'],
        )


def downgrade() -> None:
    with op.batch_alter_table('door_sessions') as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_door_sessions_requested_by_staff_id_staff_accounts'), type_='foreignkey'
        )
        batch_op.drop_column('requested_by_staff_id')
