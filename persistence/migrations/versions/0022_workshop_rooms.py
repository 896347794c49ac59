"""Workshops: each session's live room and the attendance written back from it (issue 20).

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("workshop_occurrences") as batch:
        batch.add_column(sa.Column("room_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("opened_at", UTC, nullable=True))
        batch.add_column(sa.Column("closed_at", UTC, nullable=True))
        batch.create_index(batch.f("ix_workshop_occurrences_room_id"), ["room_id"])
        batch.create_foreign_key(
            batch.f("fk_workshop_occurrences_room_id_rooms"),
            "rooms",
            ["room_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "workshop_attendance",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurrence_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("recorded_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["occurrence_id"],
            ["workshop_occurrences.id"],
            name=op.f("fk_workshop_attendance_occurrence_id_workshop_occurrences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["workshop_registrations.id"],
            name=op.f("fk_workshop_attendance_registration_id_workshop_registrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_workshop_attendance_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_attendance")),
        sa.UniqueConstraint(
            "occurrence_id", "user_id", name=op.f("uq_workshop_attendance_occurrence_id_user_id")
        ),
    )
    op.create_index(
        op.f("ix_workshop_attendance_registration_id"), "workshop_attendance", ["registration_id"]
    )
    op.create_index(op.f("ix_workshop_attendance_user_id"), "workshop_attendance", ["user_id"])


def downgrade() -> None:
    op.drop_table("workshop_attendance")
    with op.batch_alter_table("workshop_occurrences") as batch:
        batch.drop_constraint(batch.f("fk_workshop_occurrences_room_id_rooms"), type_="foreignkey")
        batch.drop_index(batch.f("ix_workshop_occurrences_room_id"))
        batch.drop_column("closed_at")
        batch.drop_column("opened_at")
        batch.drop_column("room_id")
