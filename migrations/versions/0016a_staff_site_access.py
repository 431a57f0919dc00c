"""Staff of several centres: the centres a staff account may work at besides its home centre,
and the centre each console sign-in is working at.

Revision ID: 0016a
Revises: 0016e
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import booking.core.db

revision: str = "0016a"
down_revision: str | None = "0016e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_site_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("granted_by", sa.Integer(), nullable=True),
        sa.Column("granted_at", booking.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_accounts.id"],
            name=op.f("fk_staff_site_access_staff_id_staff_accounts"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"],
            name=op.f("fk_staff_site_access_site_id_sites"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["staff_accounts.id"],
            name=op.f("fk_staff_site_access_granted_by_staff_accounts"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_site_access")),
        sa.UniqueConstraint(
            "staff_id", "site_id", name=op.f("uq_staff_site_access_staff_id")
        ),
    )  # fmt: skip
    with op.batch_alter_table("staff_site_access") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_site_access_staff_id"), ["staff_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_staff_site_access_site_id"), ["site_id"], unique=False)
    with op.batch_alter_table("staff_sessions") as batch_op:
        batch_op.add_column(sa.Column("site_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_staff_sessions_site_id_sites"), "sites", ["site_id"], ["id"],
            ondelete="SET NULL",
        )  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("staff_sessions") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_staff_sessions_site_id_sites"), type_="foreignkey")
        batch_op.drop_column("site_id")
    with op.batch_alter_table("staff_site_access") as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_site_access_site_id"))
        batch_op.drop_index(batch_op.f("ix_staff_site_access_staff_id"))
    op.drop_table("staff_site_access")
