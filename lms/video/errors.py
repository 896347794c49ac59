"""The video package's typed errors: each carries the sentence an instructor reads.

They subclass ``lms.errors`` kinds so ``error_map`` turns them into problem documents
without knowing this package; ``kind`` names each across the worker-process boundary
(the child reports ``{"kind", "message"}``, the parent raises the same class again).
"""

from __future__ import annotations

from typing import ClassVar

from lms.errors import Conflict, InvalidInput, LmsError


class VideoError(LmsError):
    """Base of every error of the video package."""

    kind: ClassVar[str] = "video"


class UnreadableVideo(VideoError, InvalidInput):
    """The file is not a video we can read (corrupt, truncated, not a media file)."""

    kind: ClassVar[str] = "unreadable"


class NoVideoStream(UnreadableVideo):
    """The file is a media file but holds no video stream (e.g. audio only)."""

    kind: ClassVar[str] = "no-video"


class VideoTooLarge(UnreadableVideo):
    """Dimensions, length or pixel rate beyond what we transcode (absurd sizes, bombs)."""

    kind: ClassVar[str] = "too-large"


class TranscodeFailed(VideoError):
    """The transcoder stopped without a result: a crash, a signal, an encoder error."""

    kind: ClassVar[str] = "failed"


class TranscodeTimeout(TranscodeFailed):
    """The transcode ran past its wall-clock cap and was killed."""

    kind: ClassVar[str] = "timeout"


class TranscodeCancelled(TranscodeFailed):
    """The transcode was cancelled (the child was killed on request)."""

    kind: ClassVar[str] = "cancelled"


class InvalidCaptions(VideoError, InvalidInput):
    """An uploaded caption track is not a WebVTT file we accept, or its language tag is bad."""

    kind: ClassVar[str] = "captions"


class VideoNotReady(VideoError, Conflict):
    """The video is still being transcoded or failed; what was asked needs it ready."""

    kind: ClassVar[str] = "not-ready"


KINDS: dict[str, type[VideoError]] = {
    cls.kind: cls
    for cls in (
        VideoError,
        UnreadableVideo,
        NoVideoStream,
        VideoTooLarge,
        TranscodeFailed,
        TranscodeTimeout,
        TranscodeCancelled,
        InvalidCaptions,
        VideoNotReady,
    )
}
"""Every error by its ``kind`` (what the worker process sends back)."""


def from_kind(kind: str, message: str) -> VideoError:
    """The error a child reported as ``kind`` (TranscodeFailed for an unknown kind)."""
    return KINDS.get(kind, TranscodeFailed)(message)


class CaptionsTooLarge(VideoError):
    """An uploaded caption file is over the size cap (413)."""

    kind: ClassVar[str] = "captions-too-large"
