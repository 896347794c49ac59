"""The labs' typed errors (error_map maps their bases to problem documents)."""

from __future__ import annotations

from lms.errors import Conflict, TooManyRequests


class LabNotRunning(Conflict):
    """The lab has not started (or has ended): no workspaces, checks or help yet."""


class HelpAlreadyOpen(Conflict):
    """The learner already has a help request waiting or being answered."""


class HelpFlood(TooManyRequests):
    """Too many help requests in a short time."""
