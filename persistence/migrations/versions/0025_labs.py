"""Hands-on labs: labs, learners' workspaces, checkpoint completions, the help queue and
the activity timeline (issue 20).

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "labs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("steps", JSON, nullable=False),
        sa.Column("files", JSON, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("shared_user_id", sa.Uuid(), nullable=True),
        sa.Column("broadcast", JSON, nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("started_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_labs_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_labs_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["shared_user_id"],
            ["users.id"],
            name=op.f("fk_labs_shared_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labs")),
    )
    op.create_index(op.f("ix_labs_course_id_id"), "labs", ["course_id", "id"], unique=False)
    op.create_table(
        "lab_activities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lab_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["lab_id"], ["labs.id"], name=op.f("fk_lab_activities_lab_id_labs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_lab_activities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_activities")),
    )
    op.create_index(
        op.f("ix_lab_activities_lab_id_user_id_id"),
        "lab_activities",
        ["lab_id", "user_id", "id"],
        unique=False,
    )
    op.create_index(op.f("ix_lab_activities_user_id"), "lab_activities", ["user_id"], unique=False)
    op.create_table(
        "lab_completions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lab_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("completed_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["lab_id"], ["labs.id"], name=op.f("fk_lab_completions_lab_id_labs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_lab_completions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_completions")),
        sa.UniqueConstraint(
            "lab_id", "user_id", "step_id", name=op.f("uq_lab_completions_lab_id_user_id_step_id")
        ),
    )
    op.create_index(
        op.f("ix_lab_completions_user_id"), "lab_completions", ["user_id"], unique=False
    )
    op.create_table(
        "lab_help_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lab_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("taken_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("taken_at", UTC, nullable=True),
        sa.Column("resolved_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["lab_id"],
            ["labs.id"],
            name=op.f("fk_lab_help_requests_lab_id_labs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["taken_by"],
            ["users.id"],
            name=op.f("fk_lab_help_requests_taken_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_lab_help_requests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_help_requests")),
    )
    op.create_index(
        op.f("ix_lab_help_requests_lab_id_status_id"),
        "lab_help_requests",
        ["lab_id", "status", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_lab_help_requests_user_id"), "lab_help_requests", ["user_id"], unique=False
    )
    op.create_table(
        "lab_workspaces",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lab_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=False),
        sa.Column("resets", sa.Integer(), nullable=False),
        sa.Column("last_check", JSON, nullable=True),
        sa.Column("last_activity_at", UTC, nullable=False),
        sa.Column("progressed_at", UTC, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["lab_id"], ["labs.id"], name=op.f("fk_lab_workspaces_lab_id_labs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_lab_workspaces_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_workspaces")),
        sa.UniqueConstraint("lab_id", "user_id", name=op.f("uq_lab_workspaces_lab_id_user_id")),
    )
    op.create_index(op.f("ix_lab_workspaces_user_id"), "lab_workspaces", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_lab_workspaces_user_id"), table_name="lab_workspaces")
    op.drop_table("lab_workspaces")
    op.drop_index(op.f("ix_lab_help_requests_user_id"), table_name="lab_help_requests")
    op.drop_index(op.f("ix_lab_help_requests_lab_id_status_id"), table_name="lab_help_requests")
    op.drop_table("lab_help_requests")
    op.drop_index(op.f("ix_lab_completions_user_id"), table_name="lab_completions")
    op.drop_table("lab_completions")
    op.drop_index(op.f("ix_lab_activities_user_id"), table_name="lab_activities")
    op.drop_index(op.f("ix_lab_activities_lab_id_user_id_id"), table_name="lab_activities")
    op.drop_table("lab_activities")
    op.drop_index(op.f("ix_labs_course_id_id"), table_name="labs")
    op.drop_table("labs")
