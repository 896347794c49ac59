"""A module item may show a course file: module_items.file_id (files have integer ids).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("module_items") as batch:
        batch.add_column(sa.Column("file_id", BIG_ID, nullable=True))
        batch.create_index(batch.f("ix_module_items_file_id"), ["file_id"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_module_items_file_id_files"),
            "files",
            ["file_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("module_items") as batch:
        batch.drop_constraint(batch.f("fk_module_items_file_id_files"), type_="foreignkey")
        batch.drop_index(batch.f("ix_module_items_file_id"))
        batch.drop_column("file_id")
