"""Live quizzes in rooms: the quizzes with their keys and each student's graded answers
(issue 19).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "live_quizzes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("room_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("questions", JSON, nullable=False),
        sa.Column("keys", JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("revealed", sa.Boolean(), nullable=False),
        sa.Column("graded_at", UTC, nullable=True),
        sa.Column("launched_at", UTC, nullable=False),
        sa.Column("closes_at", UTC, nullable=True),
        sa.Column("closed_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_live_quizzes_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_live_quizzes_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_quizzes")),
    )
    with op.batch_alter_table("live_quizzes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_live_quizzes_room_id_launched_at"), ["room_id", "launched_at"]
        )
    op.create_table(
        "live_quiz_answers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("quiz_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("question_id", sa.String(length=8), nullable=False),
        sa.Column("response", JSON, nullable=False),
        sa.Column("picks", JSON, nullable=False),
        sa.Column("credit", sa.Float(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["live_quizzes.id"],
            name=op.f("fk_live_quiz_answers_quiz_id_live_quizzes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_live_quiz_answers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_quiz_answers")),
        sa.UniqueConstraint(
            "quiz_id",
            "user_id",
            "question_id",
            name=op.f("uq_live_quiz_answers_quiz_id_user_id_question_id"),
        ),
    )
    with op.batch_alter_table("live_quiz_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_quiz_answers_user_id"), ["user_id"])


def downgrade() -> None:
    with op.batch_alter_table("live_quiz_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_quiz_answers_user_id"))
    op.drop_table("live_quiz_answers")
    with op.batch_alter_table("live_quizzes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_quizzes_room_id_launched_at"))
    op.drop_table("live_quizzes")
