"""The labs' typed errors (error_map maps their bases to problem documents, and lists the
feed's close error)."""

from __future__ import annotations

from lms.errors import Conflict, TooManyRequests
from realtime.errors import RealtimeError


class LabNotRunning(Conflict):
    """The lab has not started (or has ended): no workspaces, checks or help yet."""


class HelpAlreadyOpen(Conflict):
    """The learner already has a help request waiting or being answered."""


class HelpFlood(TooManyRequests):
    """Too many help requests in a short time."""


class LabArchived(Conflict):
    """The lab was deleted after it started: it is archived (read-only, for its staff)."""


class LabArchivedError(RealtimeError):
    """The lab was archived: its feed closes and does not come back (the labs' close code,
    shared with a deleted document's: the thing the socket followed is gone)."""

    close_code = 4004
    default_reason = "lab archived"
    reconnect = False
