"""Which database errors mean "busy, try again": the one classifier of lock and load errors.

Two questions share these facts. ``is_transient``: is the failed transaction worth running
again here? Lock and serialisation conflicts are: SQLite answers ``database is locked``
(SQLITE_BUSY) when another connection held the write lock past the busy timeout, which a
loaded machine reaches; the pool gives up waiting for a connection (on SQLite the writers'
pool has one connection: that wait is the wait for the write lock); PostgreSQL answers
serialization failures (40001) and deadlocks (40P01). The transaction was rolled back (or
never began) in each case, so running it again is safe; anything else is not retried.
``is_busy``: should the client be told to come back shortly (503 with ``Retry-After``)
rather than see a fault? Every transient error, and also PostgreSQL's lock timeout, too
many connections and a statement timeout, which a retry inside the same request would only
prolong.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# serialization_failure, deadlock_detected: the transaction lost a race and was rolled back.
RETRY_SQLSTATES: Final = frozenset({"40001", "40P01"})
# ...and lock_not_available, too_many_connections, query_canceled (a statement timeout).
BUSY_SQLSTATES: Final = RETRY_SQLSTATES | frozenset({"55P03", "53300", "57014"})
# SQLite's lock errors carry no SQLSTATE: their text is all there is (SQLITE_BUSY, SQLITE_LOCKED).
SQLITE_BUSY_TEXT: Final = ("database is locked", "database table is locked", "database is busy")


def is_transient(exc: BaseException) -> bool:
    """True when `exc` is a lock or serialisation conflict that a retry may get past."""
    return _classify(exc, RETRY_SQLSTATES)


def is_busy(exc: BaseException) -> bool:
    """True when `exc` means the database is too busy now (a lock, a conflict, a timeout, no
    free connection) rather than a fault: the request may be sent again shortly."""
    return _classify(exc, BUSY_SQLSTATES)


def _classify(exc: BaseException, sqlstates: frozenset[str]) -> bool:
    if isinstance(exc, PoolTimeout):  # no connection came free in time: nothing began
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if getattr(exc.orig, "sqlstate", None) in sqlstates:
        return True
    text = str(exc.orig).lower()
    return any(marker in text for marker in SQLITE_BUSY_TEXT)
