"""Files are named by their BLAKE3 digest (``files.blake3``, content keys
``files/blake3/...``); the files stored before keep their SHA-256 and their keys, so
``files.sha256`` may now be null (issue 18: the upload's digest was a third of its work).

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.add_column(sa.Column("blake3", sa.String(length=64), nullable=True))
        batch.alter_column("sha256", existing_type=sa.String(length=64), nullable=True)


def downgrade() -> None:
    newer = op.get_bind().execute(sa.text("SELECT count(*) FROM files WHERE sha256 IS NULL"))
    if newer.scalar_one():
        raise RuntimeError("files stored since 0030 have no SHA-256: no downgrade past it")
    with op.batch_alter_table("files") as batch:
        batch.alter_column("sha256", existing_type=sa.String(length=64), nullable=False)
        batch.drop_column("blake3")
