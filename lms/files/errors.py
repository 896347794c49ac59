"""The files domain's errors; ``error_map.PROBLEMS`` gives each its status and problem type."""

from __future__ import annotations

from lms.errors import Conflict, Forbidden, InvalidInput, LmsError


class FilesError(LmsError):
    """Base of the files and uploads errors."""


class TusError(FilesError):
    """A tus request the protocol refuses; answered with ``Tus-Resumable``."""


class BadTusRequest(TusError, InvalidInput):
    """A missing or malformed tus header (400)."""


class UnsupportedVersion(TusError):
    """The client speaks a tus version other than 1.0.0 (412)."""


class WrongContentType(TusError):
    """A PATCH whose body is not ``application/offset+octet-stream`` (415)."""


class OffsetMismatch(TusError, Conflict):
    """``Upload-Offset`` is not where the upload stands (409)."""


class ChecksumMismatch(TusError):
    """The chunk's bytes do not match its ``Upload-Checksum`` (460); they were dropped."""


class UploadTooLarge(TusError):
    """Past the declared length, the size cap, or the course's quota (413)."""


class UploadGone(TusError):
    """The upload expired, was terminated or belongs to another node's disk (410)."""


class LinkRefused(FilesError, Forbidden):
    """A signed link that is forged, altered or expired (403)."""


class UploadBusy(TusError):
    """Another request, perhaps on another node, is writing this upload now (423)."""
