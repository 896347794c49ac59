"""The jobs package's errors: what a handler may raise on purpose, and what the admin
operations refuse. ``error_map.PROBLEMS`` maps the admin ones to problem documents."""

from __future__ import annotations


class JobsError(Exception):
    """Base of every error the jobs package raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidSchedule(JobsError):
    """A periodic job's schedule is not one we understand (bad cron field, zero interval)."""


class UnknownJobType(JobsError):
    """A job or event names a type nobody declared."""


class JobNotFound(JobsError):
    """No job with that id (it may have succeeded: successful jobs are deleted)."""


class JobStateConflict(JobsError):
    """The job is not in a state that allows this (retrying a running job, say)."""


class JobCancelled(JobsError):
    """Raised by a handler (``ctx.raise_if_cancelled()``) that stops because it was asked to;
    the job ends ``cancelled`` and is not retried."""


class PermanentFailure(JobsError):
    """Raised by a handler that knows retrying cannot help: the job is dead-lettered at once."""
