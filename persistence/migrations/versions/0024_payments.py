"""Payments: products, prices, coupons, orders, seat reservations, refunds, provider
events, entitlements, the offline provider's sessions and idempotency keys (issue 21).

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", JSON, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_idempotency_keys_scope_key")),
    )
    op.create_index(
        op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"], unique=False
    )
    op.create_table(
        "payment_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("raw_type", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("flag", sa.String(length=40), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("received_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
        sa.UniqueConstraint(
            "provider", "event_id", name=op.f("uq_payment_events_provider_event_id")
        ),
    )
    op.create_index(
        op.f("ix_payment_events_order_id"), "payment_events", ["order_id"], unique=False
    )
    op.create_table(
        "payment_offline_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("payment_ref", sa.String(length=64), nullable=True),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("success_url", sa.Text(), nullable=False),
        sa.Column("cancel_url", sa.Text(), nullable=False),
        sa.Column("webhook_url", sa.Text(), nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_offline_sessions")),
        sa.UniqueConstraint("payment_ref", name=op.f("uq_payment_offline_sessions_payment_ref")),
    )
    op.create_index(
        op.f("ix_payment_offline_sessions_created_at"),
        "payment_offline_sessions",
        ["created_at"],
        unique=False,
    )
    op.create_table(
        "payment_products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=True),
        sa.Column("period", sa.String(length=10), nullable=True),
        sa.Column("features", JSON, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_products")),
    )
    op.create_index(
        op.f("ix_payment_products_kind_target_id"),
        "payment_products",
        ["kind", "target_id"],
        unique=False,
    )
    op.create_table(
        "payment_coupons",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("percent_off", sa.Integer(), nullable=True),
        sa.Column("amount_off", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("max_redemptions", sa.Integer(), nullable=True),
        sa.Column("per_user_limit", sa.Integer(), nullable=False),
        sa.Column("expires_at", UTC, nullable=True),
        sa.Column("product_ids", JSON, nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("redemptions", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_payment_coupons_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_coupons")),
        sa.UniqueConstraint("code", name=op.f("uq_payment_coupons_code")),
    )
    op.create_table(
        "payment_prices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("unit_amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["payment_products.id"],
            name=op.f("fk_payment_prices_product_id_payment_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_prices")),
        sa.UniqueConstraint(
            "product_id", "currency", name=op.f("uq_payment_prices_product_id_currency")
        ),
    )
    op.create_table(
        "payment_orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("buyer", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("coupon_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=True),
        sa.Column("session_id", sa.String(length=255), nullable=True),
        sa.Column("payment_ref", sa.String(length=255), nullable=True),
        sa.Column("checkout_url", sa.Text(), nullable=True),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", UTC, nullable=True),
        sa.Column("paid_at", UTC, nullable=True),
        sa.Column("fulfilled_at", UTC, nullable=True),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.Column("flag", sa.String(length=40), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["payment_coupons.id"],
            name=op.f("fk_payment_orders_coupon_id_payment_coupons"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["payment_products.id"],
            name=op.f("fk_payment_orders_product_id_payment_products"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_payment_orders_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_orders")),
    )
    op.create_index(
        op.f("ix_payment_orders_created_at"), "payment_orders", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_payment_orders_provider_session_id"),
        "payment_orders",
        ["provider", "session_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payment_orders_status_expires_at"),
        "payment_orders",
        ["status", "expires_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payment_orders_user_id_created_at"),
        "payment_orders",
        ["user_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "payment_entitlements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("features", JSON, nullable=False),
        sa.Column("period_start", UTC, nullable=False),
        sa.Column("period_end", UTC, nullable=True),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["payment_orders.id"],
            name=op.f("fk_payment_entitlements_order_id_payment_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["payment_products.id"],
            name=op.f("fk_payment_entitlements_product_id_payment_products"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_payment_entitlements_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_entitlements")),
        sa.UniqueConstraint("order_id", name=op.f("uq_payment_entitlements_order_id")),
    )
    op.create_index(
        op.f("ix_payment_entitlements_user_id_period_end"),
        "payment_entitlements",
        ["user_id", "period_end"],
        unique=False,
    )
    op.create_table(
        "payment_refunds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("refund_ref", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_payment_refunds_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["payment_orders.id"],
            name=op.f("fk_payment_refunds_order_id_payment_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_refunds")),
    )
    op.create_index(
        op.f("ix_payment_refunds_order_id"), "payment_refunds", ["order_id"], unique=False
    )
    op.create_table(
        "payment_reservations",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("workshop_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["payment_orders.id"],
            name=op.f("fk_payment_reservations_order_id_payment_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_payment_reservations")),
    )
    op.create_index(
        op.f("ix_payment_reservations_state_expires_at"),
        "payment_reservations",
        ["state", "expires_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_payment_reservations_workshop_id"),
        "payment_reservations",
        ["workshop_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payment_reservations_workshop_id"), table_name="payment_reservations")
    op.drop_index(
        op.f("ix_payment_reservations_state_expires_at"), table_name="payment_reservations"
    )
    op.drop_table("payment_reservations")
    op.drop_index(op.f("ix_payment_refunds_order_id"), table_name="payment_refunds")
    op.drop_table("payment_refunds")
    op.drop_index(
        op.f("ix_payment_entitlements_user_id_period_end"), table_name="payment_entitlements"
    )
    op.drop_table("payment_entitlements")
    op.drop_index(op.f("ix_payment_orders_user_id_created_at"), table_name="payment_orders")
    op.drop_index(op.f("ix_payment_orders_status_expires_at"), table_name="payment_orders")
    op.drop_index(op.f("ix_payment_orders_provider_session_id"), table_name="payment_orders")
    op.drop_index(op.f("ix_payment_orders_created_at"), table_name="payment_orders")
    op.drop_table("payment_orders")
    op.drop_table("payment_prices")
    op.drop_table("payment_coupons")
    op.drop_index(op.f("ix_payment_products_kind_target_id"), table_name="payment_products")
    op.drop_table("payment_products")
    op.drop_index(
        op.f("ix_payment_offline_sessions_created_at"), table_name="payment_offline_sessions"
    )
    op.drop_table("payment_offline_sessions")
    op.drop_index(op.f("ix_payment_events_order_id"), table_name="payment_events")
    op.drop_table("payment_events")
    op.drop_index(op.f("ix_idempotency_keys_expires_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
