"""Payments reconciliation: runs and the differences each found (issue 21).

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "payment_reconcile_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("window_start", UTC, nullable=False),
        sa.Column("window_end", UTC, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("orders_checked", sa.Integer(), nullable=False),
        sa.Column("provider_payments", sa.Integer(), nullable=False),
        sa.Column("differences", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("finished_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_reconcile_runs")),
    )
    op.create_index(
        op.f("ix_payment_reconcile_runs_started_at"), "payment_reconcile_runs", ["started_at"]
    )
    op.create_table(
        "payment_reconcile_differences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("session_id", sa.String(length=255), nullable=True),
        sa.Column("payment_ref", sa.String(length=255), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("ours_amount", sa.BigInteger(), nullable=True),
        sa.Column("theirs_amount", sa.BigInteger(), nullable=True),
        sa.Column("ours", JSON, nullable=False),
        sa.Column("theirs", JSON, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["payment_reconcile_runs.id"],
            name=op.f("fk_payment_reconcile_differences_run_id_payment_reconcile_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_reconcile_differences")),
    )
    op.create_index(
        op.f("ix_payment_reconcile_differences_run_id_id"),
        "payment_reconcile_differences",
        ["run_id", "id"],
    )


def downgrade() -> None:
    op.drop_table("payment_reconcile_differences")
    op.drop_table("payment_reconcile_runs")
