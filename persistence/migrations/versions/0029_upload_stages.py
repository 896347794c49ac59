"""Uploads staged in the S3-compatible store: each one's offset, multipart upload, parts
and the lease of the request writing it, so any node continues any upload (issue 18).

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "upload_stages",
        sa.Column("upload_id", sa.Uuid(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("parts_bytes", sa.BigInteger(), nullable=False),
        sa.Column("multipart_id", sa.String(length=1024), nullable=True),
        sa.Column("etags", JSON, nullable=False),
        sa.Column("lease_token", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["uploads.id"],
            name=op.f("fk_upload_stages_upload_id_uploads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("upload_id", name=op.f("pk_upload_stages")),
    )


def downgrade() -> None:
    op.drop_table("upload_stages")
