"""The gradebook's typed errors (error_map maps their kinds to problem documents)."""

from __future__ import annotations

from lms.errors import Conflict, InvalidInput


class InvalidScore(InvalidInput):
    """A score that is not a finite number within the stored range (two decimals)."""


class StaleGrade(Conflict):
    """A grade changed since the caller read it (a CSV preview, an edited cell)."""
