"""Workshops: schedules, materialised occurrences and registrations with a waitlist
(issue 20).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "workshops",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organiser_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("local_start", sa.String(length=19), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("rrule", sa.String(length=500), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("waitlist_capacity", sa.Integer(), nullable=False),
        sa.Column("cancel_cutoff_minutes", sa.Integer(), nullable=False),
        sa.Column("confirm_minutes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("seats_taken", sa.Integer(), nullable=False),
        sa.Column("arrivals", sa.Integer(), nullable=False),
        sa.Column("first_start", UTC, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["organiser_id"],
            ["users.id"],
            name=op.f("fk_workshops_organiser_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshops")),
    )
    op.create_index(op.f("ix_workshops_organiser_id"), "workshops", ["organiser_id"])
    op.create_index(op.f("ix_workshops_status_id"), "workshops", ["status", "id"])
    op.create_table(
        "workshop_occurrences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workshop_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTC, nullable=False),
        sa.Column("ends_at", UTC, nullable=False),
        sa.Column("reminded_24h_at", UTC, nullable=True),
        sa.Column("reminded_1h_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshops.id"],
            name=op.f("fk_workshop_occurrences_workshop_id_workshops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_occurrences")),
        sa.UniqueConstraint(
            "workshop_id", "number", name=op.f("uq_workshop_occurrences_workshop_id_number")
        ),
    )
    op.create_index(
        op.f("ix_workshop_occurrences_starts_at"), "workshop_occurrences", ["starts_at"]
    )
    op.create_table(
        "workshop_registrations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workshop_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("arrival", sa.Integer(), nullable=False),
        sa.Column("offered_until", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_workshop_registrations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshops.id"],
            name=op.f("fk_workshop_registrations_workshop_id_workshops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_registrations")),
        sa.UniqueConstraint(
            "workshop_id", "arrival", name=op.f("uq_workshop_registrations_workshop_id_arrival")
        ),
        sa.UniqueConstraint(
            "workshop_id", "user_id", name=op.f("uq_workshop_registrations_workshop_id_user_id")
        ),
    )
    op.create_index(
        op.f("ix_workshop_registrations_user_id"), "workshop_registrations", ["user_id"]
    )
    op.create_index(
        op.f("ix_workshop_registrations_workshop_id_status_arrival"),
        "workshop_registrations",
        ["workshop_id", "status", "arrival"],
    )


def downgrade() -> None:
    op.drop_table("workshop_registrations")
    op.drop_table("workshop_occurrences")
    op.drop_table("workshops")
