"""The assignments domain's typed errors: each subclasses an ``lms.errors`` kind, so
``error_map`` answers it with the right status and problem type."""

from __future__ import annotations

from datetime import datetime

from lms.errors import Conflict, InvalidInput, LmsError


class AssignmentError(LmsError):
    """Base of every error of the assignments domain."""


class NotOpenYet(AssignmentError, Conflict):
    """A submission before the assignment's available-from date."""

    def __init__(self, available_from: datetime) -> None:
        super().__init__(
            "This assignment does not take submissions yet.",
            available_from=available_from.isoformat(),
        )


class AssignmentLocked(AssignmentError, Conflict):
    """A submission at or after the lock date that applies to this student."""

    def __init__(self, lock_at: datetime) -> None:
        super().__init__(
            "This assignment is locked: submissions closed at its lock date.",
            lock_at=lock_at.isoformat(),
        )


class InvalidSubmission(AssignmentError, InvalidInput):
    """A submission we refuse: a type the assignment does not take, text too long, a file
    that is not the student's own upload, of an extension or a size not allowed."""


class InvalidRubric(AssignmentError, InvalidInput):
    """A rubric, or a rubric grading, that does not fit the rubric's shape."""
