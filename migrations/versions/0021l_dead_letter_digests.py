"""Letters kept before 0020d get their digest, so the same message refused again now counts on
the letter it made then instead of making a second one.

The digest is SHA-256 of the topic (UTF-8, surrogates escaped), a NUL byte and the payload
as kept, as :func:`devices.ingest.dead_letters.record` makes it; written out here, so this
revision says the same whatever that module becomes. In batches of 500, by id.

Revision ID: 0021l
Revises: 0020d
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021l"
down_revision: str | None = "0020d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500

letters = sa.table(
    "device_dead_letters",
    sa.column("id", sa.Integer()),
    sa.column("topic", sa.String()),
    sa.column("payload", sa.LargeBinary()),
    sa.column("digest", sa.String()),
)


def upgrade() -> None:
    connection = op.get_bind()
    after = 0
    while True:
        rows = connection.execute(
            sa.select(letters.c.id, letters.c.topic, letters.c.payload)
            .where(letters.c.digest.is_(None), letters.c.id > after)
            .order_by(letters.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for letter_id, topic, payload in rows:
            digest = hashlib.sha256(
                topic.encode("utf-8", "surrogateescape") + b"\0" + bytes(payload)
            ).hexdigest()
            connection.execute(
                sa.update(letters).where(letters.c.id == letter_id).values(digest=digest)
            )
        after = rows[-1][0]


def downgrade() -> None:
    # A digest is right for any letter, and which ones this revision filled in is not
    # recorded: nothing to undo.
    pass
