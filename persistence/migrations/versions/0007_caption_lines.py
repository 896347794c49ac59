"""Caption lines: the class transcript (final captions, typed or automatic).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "caption_lines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("room_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("speaker_id", sa.Uuid(), nullable=True),
        sa.Column("speaker_name", sa.String(length=200), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("track_id", sa.String(length=64), nullable=True),
        sa.Column("utterance", sa.String(length=128), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_caption_lines_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["speaker_id"],
            ["users.id"],
            name=op.f("fk_caption_lines_speaker_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_caption_lines_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caption_lines")),
    )
    with op.batch_alter_table("caption_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_caption_lines_room_id_started_at"),
            ["room_id", "started_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_caption_lines_speaker_id"), ["speaker_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_caption_lines_author_id"), ["author_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("caption_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_caption_lines_author_id"))
        batch_op.drop_index(batch_op.f("ix_caption_lines_speaker_id"))
        batch_op.drop_index(batch_op.f("ix_caption_lines_room_id_started_at"))
    op.drop_table("caption_lines")
