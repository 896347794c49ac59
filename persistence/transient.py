"""Which database errors are worth one more try: lock and serialisation conflicts.

SQLite answers ``database is locked`` (SQLITE_BUSY) when another connection held the write
lock past the busy timeout, which a loaded machine reaches; PostgreSQL answers
serialization failures (40001) and deadlocks (40P01). The transaction was rolled back in
each case, so running it again is safe; anything else is not retried.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.exc import DBAPIError

RETRY_SQLSTATES: Final = frozenset({"40001", "40P01"})
SQLITE_BUSY_TEXT: Final = ("database is locked", "database table is locked")


def is_transient(exc: BaseException) -> bool:
    """True when `exc` is a lock or serialisation conflict that a retry may get past."""
    if not isinstance(exc, DBAPIError):
        return False
    if getattr(exc.orig, "sqlstate", None) in RETRY_SQLSTATES:
        return True
    text = str(exc.orig).lower()
    return any(marker in text for marker in SQLITE_BUSY_TEXT)
