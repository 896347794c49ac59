"""Labs: each workspace's files as they were when the lab ended, kept with its grade
(issue 20).

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("lab_workspaces") as batch:
        batch.add_column(sa.Column("final_files", JSON, nullable=True))
        batch.add_column(sa.Column("final_at", UTC, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lab_workspaces") as batch:
        batch.drop_column("final_at")
        batch.drop_column("final_files")
