"""What happens to a job whose run failed: retry later (exponential backoff with jitter) or
dead-letter it. Sans-I/O: the worker hands in the attempt count and a random number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Backoff:
    """Delay before retry ``n`` (1-based): ``base * 2**(n-1)`` capped at ``cap``, then
    jittered to a random point in its upper half, so jobs that failed together (an outage)
    do not all come back at once."""

    base: float = 1.0
    cap: float = 3600.0

    def delay(self, attempt: int, random: float) -> float:
        """Seconds to wait after failed attempt ``attempt``; ``random`` is in [0, 1)."""
        exponent = min(max(attempt - 1, 0), 62)
        full = min(self.cap, self.base * 2.0**exponent)
        return full / 2 + full / 2 * random


@dataclass(frozen=True)
class Retry:
    """Run again at ``at``."""

    at: datetime


@dataclass(frozen=True)
class DeadLetter:
    """Give up: the job waits for an admin (retry or discard)."""


def after_failure(
    *,
    attempt: int,
    max_attempts: int,
    backoff: Backoff,
    now: datetime,
    random: float,
    permanent: bool = False,
) -> Retry | DeadLetter:
    """Decide what a failed attempt leads to."""
    if permanent or attempt >= max_attempts:
        return DeadLetter()
    return Retry(now + timedelta(seconds=backoff.delay(attempt, random)))
