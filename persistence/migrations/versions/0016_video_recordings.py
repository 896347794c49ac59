"""A video's original may be a room recording: videos.recording_id, videos.file_id nullable.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.add_column(sa.Column("recording_id", sa.Uuid(), nullable=True))
        batch.alter_column("file_id", existing_type=BIG_ID, nullable=True)
        batch.create_unique_constraint(batch.f("uq_videos_recording_id"), ["recording_id"])
        batch.create_foreign_key(
            batch.f("fk_videos_recording_id_recordings"),
            "recordings",
            ["recording_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("videos") as batch:
        batch.drop_constraint(batch.f("fk_videos_recording_id_recordings"), type_="foreignkey")
        batch.drop_constraint(batch.f("uq_videos_recording_id"), type_="unique")
        batch.alter_column("file_id", existing_type=BIG_ID, nullable=False)
        batch.drop_column("recording_id")
