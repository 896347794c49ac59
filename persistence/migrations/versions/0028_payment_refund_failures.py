"""Payments: a refund the provider failed after accepting it keeps its reason and time,
and the offline provider records its refunds so it can fail one (issue 21).

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("payment_refunds") as batch:
        batch.add_column(sa.Column("failure_reason", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("failed_at", UTC, nullable=True))
    op.create_table(
        "payment_offline_refunds",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("refund_key", sa.String(length=255), nullable=True),
        sa.Column("failure_reason", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_offline_refunds")),
    )
    op.create_index(
        op.f("ix_payment_offline_refunds_session_id"),
        "payment_offline_refunds",
        ["session_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_payment_offline_refunds_session_id"), table_name="payment_offline_refunds"
    )
    op.drop_table("payment_offline_refunds")
    with op.batch_alter_table("payment_refunds") as batch:
        batch.drop_column("failed_at")
        batch.drop_column("failure_reason")
