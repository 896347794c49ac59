"""Every package's exceptions as clients see them: RFC 9457 problems and WebSocket close codes.

Each package keeps its own exception hierarchy and raises it without knowing HTTP
(``lms.errors``, ``media.errors``, ...). This module is the one table from those exceptions
to problem documents (status, problem type, title, headers); the app factory installs it
with ``install``. No package imports this module, so a REST package raising ``NotFound``
never loads the SFU, and the SFU's ``MediaError`` becomes a problem without ``lms``
knowing it exists.

The WebSocket side is the other half: a realtime error carries its close code, because the
transport (``realtime/``) closes the socket and may not import the packages above it. The
codes every channel may send are listed here, in ``CLOSE_ERRORS``, and the tests check that
every realtime error is listed and every code is documented in ``docs/protocol.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from fastapi import FastAPI

from jobs import errors as jobs
from lms import errors as lms
from lms.files import errors as files
from lms.labs import errors as labs
from lms.rooms.access import RoomGone
from lms.video import errors as video
from media import errors as media
from ops import problems
from ops.problems import Problem, ProblemMap
from realtime import errors as realtime
from realtime.yjs import document as yjs_document
from realtime.yjs import errors as yjs
from realtime.yjs import registry as yjs_registry
from realtime.yjs import settling as yjs_settling
from realtime.yjs import update_format as yjs_update
from rooms import connection, revocation
from rooms import errors as rooms


def _bearer(_exc: Exception) -> dict[str, str]:
    return {"WWW-Authenticate": "Bearer"}


def _tus(_exc: Exception) -> dict[str, str]:
    return {"Tus-Resumable": "1.0.0"}


def _retry_after(exc: Exception) -> dict[str, str]:
    assert isinstance(exc, lms.TooManyRequests)
    return {"Retry-After": str(exc.retry_after)}


def _maybe_retry_after(exc: Exception) -> dict[str, str]:
    """``Retry-After`` for an ``Unavailable`` that says when to try again (a full line)."""
    seconds = getattr(exc, "retry_after", None)
    return {"Retry-After": str(max(1, seconds))} if isinstance(seconds, int) else {}


PROBLEMS: Final[Mapping[type[Exception], Problem]] = MappingProxyType(
    {
        # The REST modules (lms/): the problem types of docs/protocol.md's REST table.
        lms.LmsError: Problem(400, "bad-request", "Bad request"),
        lms.Unauthorized: Problem(401, "unauthorized", "Authentication required", _bearer),
        lms.InvalidCredentials: Problem(401, "invalid-credentials", "Invalid credentials", _bearer),
        lms.Forbidden: Problem(403, "forbidden", "Forbidden"),
        lms.NotFound: Problem(404, "not-found", "Not found"),
        lms.Conflict: Problem(409, "conflict", "Conflict"),
        RoomGone: Problem(410, "room-ended", "Room ended"),
        lms.UnsupportedMediaType: Problem(415, "unsupported-media-type", "Unsupported media type"),
        lms.InvalidInput: Problem(422, "invalid-input", "Invalid input"),
        lms.TooManyRequests: Problem(429, "too-many-requests", "Too many requests", _retry_after),
        lms.Unavailable: Problem(503, "unavailable", "Try again shortly", _maybe_retry_after),
        # Files and tus uploads (lms/files/): tus answers carry Tus-Resumable.
        files.TusError: Problem(400, "bad-request", "Bad request", _tus),
        files.BadTusRequest: Problem(400, "bad-request", "Bad request", _tus),
        files.UnsupportedVersion: Problem(412, "tus-version", "Unsupported tus version", _tus),
        files.WrongContentType: Problem(
            415, "unsupported-media-type", "Unsupported media type", _tus
        ),
        files.OffsetMismatch: Problem(409, "upload-offset", "Wrong upload offset", _tus),
        files.ChecksumMismatch: Problem(460, "checksum-mismatch", "Checksum mismatch", _tus),
        files.UploadTooLarge: Problem(413, "upload-too-large", "Upload too large", _tus),
        files.UploadGone: Problem(410, "upload-gone", "Upload gone", _tus),
        files.UploadBusy: Problem(423, "upload-busy", "Upload busy", _tus),
        files.LinkRefused: Problem(403, "link-refused", "Link refused"),
        # Videos (lms/video/): a transcode's own failures are stored on the video, not raised.
        video.CaptionsTooLarge: Problem(413, "payload-too-large", "Too large"),
        # Background jobs (jobs/), met by the admin jobs API.
        jobs.JobsError: Problem(400, "bad-request", "Bad request"),
        jobs.JobNotFound: Problem(404, "not-found", "Not found"),
        jobs.JobStateConflict: Problem(409, "conflict", "Conflict"),
        # The SFU (media/), met by WHIP and recordings: a bad offer is the client's fault, too
        # many tracks the room's state; any other refusal means this node cannot serve media now.
        media.BadSdp: Problem(400, "bad-sdp", "Bad SDP offer"),
        media.TooManyTracks: Problem(409, "too-many-tracks", "Too many tracks"),
        media.MediaError: Problem(503, "media-unavailable", "Media unavailable"),
    }
)
"""Exception type to problem; an exception takes its nearest listed class's entry."""


def install(app: FastAPI) -> None:
    """Make ``app`` answer every error with a problem document, domain errors by ``PROBLEMS``."""
    problems.install(app, ProblemMap(PROBLEMS))


CLOSE_ERRORS: Final[tuple[type[realtime.RealtimeError], ...]] = (
    # The transport (realtime/): every channel.
    realtime.RealtimeError,
    realtime.ServerShutdownError,
    realtime.ResyncError,
    realtime.ProtocolError,
    realtime.UnsupportedDataError,
    realtime.MessageTooLargeError,
    realtime.BrokerUnavailableError,
    realtime.UnauthorizedError,
    realtime.ForbiddenError,
    realtime.SlowConsumerError,
    realtime.RateLimitedError,
    # The Yjs channel (realtime/yjs/).
    yjs.YjsError,
    yjs.MalformedMessage,
    yjs.UnknownMessageType,
    yjs.MessageTooLarge,
    yjs_update.InvalidUpdate,
    yjs_update.UpdateTooComplex,
    yjs_document.DocumentTooLargeError,
    yjs_document.DocumentDeletedError,
    yjs_document.StoreFailedError,
    yjs_registry.DocumentBusyError,
    yjs_settling.DocumentNotSettledError,
    # The room channel and both channels' revocation (rooms/).
    rooms.RoomFullError,
    rooms.RoomEndedError,
    rooms.RemovedError,
    rooms.LobbyDeniedError,
    revocation.SignedOutError,
    revocation.LeftCourseError,
    revocation.CourseRoleChangedError,
    connection.Gone,
    # The lab feed (lms/labs/).
    labs.LabArchivedError,
)
"""Every realtime error a channel closes a socket with (a normal close aside)."""


def _close_codes() -> dict[int, frozenset[str]]:
    codes: dict[int, set[str]] = {realtime.NORMAL_CLOSURE: {"normal closure"}}
    for error in CLOSE_ERRORS:
        codes.setdefault(error.close_code, set()).add(error.default_reason)
    return {code: frozenset(reasons) for code, reasons in sorted(codes.items())}


CLOSE_CODES: Final[Mapping[int, frozenset[str]]] = MappingProxyType(_close_codes())
"""Every close code a channel may send, with the default reasons it is sent with."""
