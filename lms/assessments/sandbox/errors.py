"""The sandbox's typed errors (a student's code going wrong is a ``CodeRun`` status, not an
error: these are about the runner itself)."""

from __future__ import annotations

from lms.assessments.errors import AssessmentError
from lms.errors import TooManyRequests, Unavailable


class SandboxBusy(AssessmentError, Unavailable):
    """Every worker is busy and the waiting line is full (or the pool is closing): a 503
    with ``retry_after``, so that a burst of runs never builds an unbounded queue."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class RunsThrottled(AssessmentError, TooManyRequests):
    """One person asked for too many practice runs in a short time (429)."""
