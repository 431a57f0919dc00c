"""Tools ahead of time: reservations of a tool type for a window or a queue place, the
renewals of a loan and the policy's limit on them, and no-show strikes for reserved tools
(a strike names a booking or a tool reservation).

Revision ID: 0015t
Revises: 0014a
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import booking.core.db

revision: str = "0015t"
down_revision: str | None = "0015f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tool_reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("tool_type_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("window", "queue", name="reservationkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "held",
                "collected",
                "cancelled",
                "no_show",
                "lapsed",
                name="reservationstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("window_starts_at", booking.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_ends_at", booking.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", booking.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("door_session_id", sa.Integer(), nullable=True),
        sa.Column("held_at", booking.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", booking.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("requested_by_staff_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["door_session_id"],
            ["door_sessions.id"],
            name=op.f("fk_tool_reservations_door_session_id_door_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_tool_reservations_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_staff_id"],
            ["staff_accounts.id"],
            name=op.f("fk_tool_reservations_requested_by_staff_id_staff_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_tool_reservations_resident_id_residents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_tool_reservations_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["tool_type_id"],
            ["tool_types.id"],
            name=op.f("fk_tool_reservations_tool_type_id_tool_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tool_reservations")),
    )
    with op.batch_alter_table("tool_reservations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tool_reservations_resident", ["resident_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_tool_reservations_type_status",
            ["tool_type_id", "status", "created_at"],
            unique=False,
        )

    with op.batch_alter_table("lending_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("max_renewals", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("no_show_strikes", sa.Boolean(), server_default=sa.true(), nullable=False)
        )

    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("renewals", sa.Integer(), server_default="0", nullable=False))

    with op.batch_alter_table("no_show_strikes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tool_reservation_id", sa.Integer(), nullable=True))
        batch_op.alter_column("booking_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_unique_constraint(
            batch_op.f("uq_no_show_strikes_tool_reservation_id"), ["tool_reservation_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_no_show_strikes_tool_reservation_id_tool_reservations"),
            "tool_reservations",
            ["tool_reservation_id"],
            ["id"],
        )


def downgrade() -> None:
    # The old schema knows only seat no-shows: a reserved tool's strikes go with the table.
    op.execute("DELETE FROM no_show_strikes WHERE booking_id IS NULL")
    with op.batch_alter_table("no_show_strikes", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_no_show_strikes_tool_reservation_id_tool_reservations"),
            type_="foreignkey",
        )
        batch_op.drop_constraint(
            batch_op.f("uq_no_show_strikes_tool_reservation_id"), type_="unique"
        )
        batch_op.alter_column("booking_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("tool_reservation_id")

    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_column("renewals")

    with op.batch_alter_table("lending_policies", schema=None) as batch_op:
        batch_op.drop_column("no_show_strikes")
        batch_op.drop_column("max_renewals")

    with op.batch_alter_table("tool_reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_tool_reservations_type_status")
        batch_op.drop_index("ix_tool_reservations_resident")

    op.drop_table("tool_reservations")
