"""The gradebook: settings, assignment groups, columns, scores with flags, final-grade
overrides and the grade-change history (issue 19).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "grade_groups",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("drop_lowest", sa.Integer(), nullable=False),
        sa.Column("drop_highest", sa.Integer(), nullable=False),
        sa.Column("extra_credit", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_grade_groups_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_groups")),
    )
    op.create_index(
        op.f("ix_grade_groups_course_id_position"),
        "grade_groups",
        ["course_id", "position"],
        unique=False,
    )
    op.create_table(
        "grade_overrides",
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("percent", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("set_by", sa.Uuid(), nullable=True),
        sa.Column("set_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_grade_overrides_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by"],
            ["users.id"],
            name=op.f("fk_grade_overrides_set_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_grade_overrides_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "user_id", name=op.f("pk_grade_overrides")),
    )
    op.create_table(
        "gradebook_settings",
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("weighted", sa.Boolean(), nullable=False),
        sa.Column("missing_policy", sa.String(length=20), nullable=False),
        sa.Column("scheme", JSON, nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_gradebook_settings_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", name=op.f("pk_gradebook_settings")),
    )
    op.create_table(
        "grade_columns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("points_possible", sa.Numeric(precision=9, scale=2), nullable=False),
        sa.Column("due_at", UTC, nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("post_policy", sa.String(length=20), nullable=False),
        sa.Column("never_drop", sa.Boolean(), nullable=False),
        sa.Column("extra_credit", sa.Boolean(), nullable=False),
        sa.Column("omit_from_final", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_grade_columns_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["grade_groups.id"],
            name=op.f("fk_grade_columns_group_id_grade_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_columns")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_grade_columns_source_source_id")),
    )
    op.create_index(
        op.f("ix_grade_columns_course_id_position"),
        "grade_columns",
        ["course_id", "position"],
        unique=False,
    )
    op.create_index(op.f("ix_grade_columns_group_id"), "grade_columns", ["group_id"], unique=False)
    op.create_table(
        "grade_changes",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("column_id", sa.Uuid(), nullable=True),
        sa.Column("student_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("old", JSON, nullable=False),
        sa.Column("new", JSON, nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_grade_changes_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["column_id"],
            ["grade_columns.id"],
            name=op.f("fk_grade_changes_column_id_grade_columns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_grade_changes_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["users.id"],
            name=op.f("fk_grade_changes_student_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_changes")),
    )
    op.create_index(
        op.f("ix_grade_changes_column_id_id"), "grade_changes", ["column_id", "id"], unique=False
    )
    op.create_index(
        op.f("ix_grade_changes_course_id_id"), "grade_changes", ["course_id", "id"], unique=False
    )
    op.create_index(
        op.f("ix_grade_changes_course_id_student_id_id"),
        "grade_changes",
        ["course_id", "student_id", "id"],
        unique=False,
    )
    op.create_table(
        "grade_scores",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("column_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Numeric(precision=9, scale=2), nullable=True),
        sa.Column("excused", sa.Boolean(), nullable=False),
        sa.Column("missing", sa.Boolean(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("late_deduction", sa.Numeric(precision=9, scale=2), nullable=True),
        sa.Column("submitted_at", UTC, nullable=True),
        sa.Column("graded_at", UTC, nullable=True),
        sa.Column("grader_id", sa.Uuid(), nullable=True),
        sa.Column("posted_at", UTC, nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["column_id"],
            ["grade_columns.id"],
            name=op.f("fk_grade_scores_column_id_grade_columns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["grader_id"],
            ["users.id"],
            name=op.f("fk_grade_scores_grader_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_grade_scores_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grade_scores")),
        sa.UniqueConstraint("column_id", "user_id", name=op.f("uq_grade_scores_column_id_user_id")),
    )
    op.create_index(op.f("ix_grade_scores_user_id"), "grade_scores", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_grade_scores_user_id"), table_name="grade_scores")
    op.drop_table("grade_scores")
    op.drop_index(op.f("ix_grade_changes_course_id_student_id_id"), table_name="grade_changes")
    op.drop_index(op.f("ix_grade_changes_course_id_id"), table_name="grade_changes")
    op.drop_index(op.f("ix_grade_changes_column_id_id"), table_name="grade_changes")
    op.drop_table("grade_changes")
    op.drop_index(op.f("ix_grade_columns_group_id"), table_name="grade_columns")
    op.drop_index(op.f("ix_grade_columns_course_id_position"), table_name="grade_columns")
    op.drop_table("grade_columns")
    op.drop_table("gradebook_settings")
    op.drop_table("grade_overrides")
    op.drop_index(op.f("ix_grade_groups_course_id_position"), table_name="grade_groups")
    op.drop_table("grade_groups")
