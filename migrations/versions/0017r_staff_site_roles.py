"""A grant to another centre carries its own role there: an account may manage one centre and
only work at another. Grants made before this kept the account's home role everywhere, so an
admin's existing grants stay admin grants and nothing anyone can do today changes.

Revision ID: 0017r
Revises: 0016a
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017r"
down_revision: str | None = "0016a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_site_access") as batch_op:
        batch_op.add_column(
            sa.Column("as_admin", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(
        "UPDATE staff_site_access SET as_admin = true WHERE staff_id IN "
        "(SELECT id FROM staff_accounts WHERE role = 'admin')"
    )


def downgrade() -> None:
    with op.batch_alter_table("staff_site_access") as batch_op:
        batch_op.drop_column("as_admin")
