"""The assessments domain's typed errors.

Each subclasses an ``lms.errors`` kind, so ``error_map`` answers it with the right status
and problem type without knowing this package (a route maps it by its nearest listed class).
"""

from __future__ import annotations

from typing import Any

from lms.errors import Conflict, Forbidden, InvalidInput, LmsError


class AssessmentError(LmsError):
    """Base of every error of the assessments domain."""


class InvalidQuestion(AssessmentError, InvalidInput):
    """A question definition an author wrote that we refuse (``errors`` lists why)."""

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail, errors=errors or [])
        self.errors = errors or []


class UnknownQuestionType(InvalidQuestion):
    """A definition or a stored row names a question type this server does not know."""


class InvalidResponse(AssessmentError, InvalidInput):
    """A student's answer we refuse: malformed, oversize, or naming a choice, blank, pair or
    item the question does not have."""

    def __init__(
        self, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail, errors=errors or [], **extra)
        self.errors = errors or []


class PoolTooSmall(AssessmentError, Conflict):
    """A quiz asks a pool for more questions than it holds (after earlier draws)."""

    def __init__(self, detail: str, *, pool: str, wanted: int, available: int) -> None:
        super().__init__(detail, pool=pool, wanted=wanted, available=available)
        self.pool = pool
        self.wanted = wanted
        self.available = available


class QuestionNotInAttempt(AssessmentError, InvalidInput):
    """An answer names a question the attempt was not given (or that does not exist)."""


class AttemptClosed(AssessmentError, Conflict):
    """The attempt takes no more answers: it was submitted or its deadline passed."""


class QuizUnavailable(AssessmentError, Conflict):
    """The quiz cannot be started now: unpublished, not open yet, closed, or empty."""


class NoAttemptsLeft(AssessmentError, Conflict):
    """The learner has used every attempt the quiz (and their accommodation) allows."""


class QuizLocked(AssessmentError, Forbidden):
    """Every module showing the quiz is locked for the learner (an unlock date not reached,
    prerequisites not completed): it cannot be started yet."""
