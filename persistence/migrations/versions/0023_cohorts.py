"""Cohorts: pacing, facilitators, members, transfers, invitations, announcements, live
sessions and wrong join codes (issue 20).

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "cohorts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("join_code", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        _fk("cohorts", "course_id", "courses", "CASCADE"),
        _fk("cohorts", "created_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohorts")),
        sa.UniqueConstraint("join_code", name=op.f("uq_cohorts_join_code")),
    )
    op.create_index(op.f("ix_cohorts_course_id_id"), "cohorts", ["course_id", "id"])
    op.create_table(
        "cohort_pacing",
        sa.Column("cohort_id", sa.Uuid(), nullable=False),
        sa.Column("module_id", sa.Uuid(), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        _fk("cohort_pacing", "cohort_id", "cohorts", "CASCADE"),
        _fk("cohort_pacing", "module_id", "course_modules", "CASCADE"),
        sa.PrimaryKeyConstraint("cohort_id", "module_id", name=op.f("pk_cohort_pacing")),
    )
    op.create_table(
        "cohort_facilitators",
        sa.Column("cohort_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        _fk("cohort_facilitators", "cohort_id", "cohorts", "CASCADE"),
        _fk("cohort_facilitators", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("cohort_id", "user_id", name=op.f("pk_cohort_facilitators")),
    )
    op.create_index(op.f("ix_cohort_facilitators_user_id"), "cohort_facilitators", ["user_id"])
    op.create_table(
        "cohort_members",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cohort_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("joined_at", UTC, nullable=False),
        _fk("cohort_members", "cohort_id", "cohorts", "CASCADE"),
        _fk("cohort_members", "course_id", "courses", "CASCADE"),
        _fk("cohort_members", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_members")),
        sa.UniqueConstraint(
            "course_id", "user_id", name=op.f("uq_cohort_members_course_id_user_id")
        ),
    )
    op.create_index(op.f("ix_cohort_members_cohort_id_id"), "cohort_members", ["cohort_id", "id"])
    op.create_index(op.f("ix_cohort_members_user_id"), "cohort_members", ["user_id"])
    op.create_table(
        "cohort_transfers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("from_cohort_id", sa.Uuid(), nullable=False),
        sa.Column("to_cohort_id", sa.Uuid(), nullable=False),
        sa.Column("by_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("at", UTC, nullable=False),
        _fk("cohort_transfers", "course_id", "courses", "CASCADE"),
        _fk("cohort_transfers", "user_id", "users", "CASCADE"),
        _fk("cohort_transfers", "from_cohort_id", "cohorts", "CASCADE"),
        _fk("cohort_transfers", "to_cohort_id", "cohorts", "CASCADE"),
        _fk("cohort_transfers", "by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_transfers")),
    )
    op.create_index(
        op.f("ix_cohort_transfers_from_cohort_id_id"),
        "cohort_transfers",
        ["from_cohort_id", "id"],
    )
    op.create_index(
        op.f("ix_cohort_transfers_to_cohort_id_id"), "cohort_transfers", ["to_cohort_id", "id"]
    )
    op.create_index(op.f("ix_cohort_transfers_user_id"), "cohort_transfers", ["user_id"])
    op.create_table(
        "cohort_invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("cohort_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("accepted_at", UTC, nullable=True),
        _fk("cohort_invitations", "cohort_id", "cohorts", "CASCADE"),
        _fk("cohort_invitations", "invited_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_cohort_invitations_token_hash")),
    )
    op.create_index(
        op.f("ix_cohort_invitations_cohort_id_created_at"),
        "cohort_invitations",
        ["cohort_id", "created_at"],
    )
    op.create_index(op.f("ix_cohort_invitations_email"), "cohort_invitations", ["email"])
    op.create_table(
        "cohort_announcements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cohort_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        _fk("cohort_announcements", "cohort_id", "cohorts", "CASCADE"),
        _fk("cohort_announcements", "author_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_announcements")),
    )
    op.create_index(
        op.f("ix_cohort_announcements_cohort_id_id"), "cohort_announcements", ["cohort_id", "id"]
    )
    op.create_index(
        op.f("ix_cohort_announcements_author_id"), "cohort_announcements", ["author_id"]
    )
    op.create_table(
        "cohort_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cohort_id", sa.Uuid(), nullable=False),
        sa.Column("room_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", UTC, nullable=False),
        sa.Column("ends_at", UTC, nullable=False),
        _fk("cohort_sessions", "cohort_id", "cohorts", "CASCADE"),
        _fk("cohort_sessions", "room_id", "rooms", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_sessions")),
    )
    op.create_index(
        op.f("ix_cohort_sessions_cohort_id_starts_at"),
        "cohort_sessions",
        ["cohort_id", "starts_at"],
    )
    op.create_table(
        "cohort_code_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        _fk("cohort_code_attempts", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_code_attempts")),
    )
    op.create_index(
        op.f("ix_cohort_code_attempts_user_id_at"), "cohort_code_attempts", ["user_id", "at"]
    )


def downgrade() -> None:
    for table in (
        "cohort_code_attempts",
        "cohort_sessions",
        "cohort_announcements",
        "cohort_invitations",
        "cohort_transfers",
        "cohort_members",
        "cohort_facilitators",
        "cohort_pacing",
        "cohorts",
    ):
        op.drop_table(table)
