"""API tokens for programs: one site, some scopes, an expiry; kept as a SHA-256 only.

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import booking.core.db

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=False),
    sa.Column('created_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', booking.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('last_used_at', booking.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_accounts.id'], name=op.f('fk_api_tokens_created_by_staff_id_staff_accounts')),
    sa.ForeignKeyConstraint(['revoked_by_staff_id'], ['staff_accounts.id'], name=op.f('fk_api_tokens_revoked_by_staff_id_staff_accounts')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_api_tokens_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_index(op.f('ix_api_tokens_site_id'), 'api_tokens', ['site_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_api_tokens_site_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
