"""The kiosk reader: slips' QR tokens on bookings and loans, a reader's pairing code, and
its recent reads for the paired screen.

Revision ID: 0015r
Revises: 0014a
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import booking.core.db

revision: str = "0015r"
down_revision: str | None = "0015m"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch_op:
        batch_op.add_column(sa.Column("slip_token", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_bookings_slip_token"), ["slip_token"])
    with op.batch_alter_table("loans") as batch_op:
        batch_op.add_column(sa.Column("slip_token", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_loans_slip_token"), ["slip_token"])
    with op.batch_alter_table("devices") as batch_op:
        batch_op.add_column(sa.Column("pairing_code_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "pairing_code_expires_at", booking.core.db.UTCDateTime(timezone=True), nullable=True
            )
        )
    op.create_table(
        "reader_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column(
            "finding",
            sa.Enum(
                "resident",
                "booking",
                "loan",
                "unknown_card",
                "unknown_code",
                name="scanfinding",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("read_at", booking.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", booking.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("taken_at", booking.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_reader_scans_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reader_scans")),
    )
    with op.batch_alter_table("reader_scans") as batch_op:
        batch_op.create_index(batch_op.f("ix_reader_scans_device_id"), ["device_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reader_scans") as batch_op:
        batch_op.drop_index(batch_op.f("ix_reader_scans_device_id"))
    op.drop_table("reader_scans")
    with op.batch_alter_table("devices") as batch_op:
        batch_op.drop_column("pairing_code_expires_at")
        batch_op.drop_column("pairing_code_hash")
    with op.batch_alter_table("loans") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_loans_slip_token"), type_="unique")
        batch_op.drop_column("slip_token")
    with op.batch_alter_table("bookings") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_bookings_slip_token"), type_="unique")
        batch_op.drop_column("slip_token")
