"""Alembic environment: runs on the connection handed over by ``persistence.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from persistence.models import Base


def run(connection: Connection) -> None:
    """Run pending migrations on ``connection``."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run(context.config.attributes["connection"])
