"""What a blob download answers, Sans-I/O: the status, the headers and the byte ranges to
send for one request, given what is known about the blob.

Two adapters serve these answers: the ASGI routes (``lms.files.serving``, every store, every
case) and the byte-serving fast path in the HTTP protocol (``lms.files.fast`` with
``ops.fastpath``: local files, one range at most, bodies sent with ``sendfile``). Both
build their answer here, so they cannot disagree on ETag, 304, If-Range, Range, 416 or the
caching headers.
"""

from __future__ import annotations

import functools
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import quote

from lms.files import ranges
from persistence.blobs import BlobInfo, BlobNotFound

IMMUTABLE = "public, max-age=31536000, immutable"
PRIVATE = "private, max-age=300"
NOT_FOUND_HEADERS = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class Answer:
    """One answer: ``status``, ``headers`` (with Content-Length and Content-Type where the
    answer has a body of its own) and the ``[start, end)`` byte ranges of the blob to send:
    none (304, 416), one (200, 206) or several (a ``multipart/byteranges`` 206, whose
    framing and length the ASGI route adds)."""

    status: int
    headers: dict[str, str]
    ranges: tuple[tuple[int, int], ...]

    @property
    def multipart(self) -> bool:
        """Whether the body is several ranges (framed as ``multipart/byteranges``)."""
        return len(self.ranges) > 1


@dataclass(frozen=True)
class Asked:
    """The request headers an answer depends on (None when absent)."""

    if_none_match: str | None = None
    if_range: str | None = None
    range: str | None = None


@functools.lru_cache(maxsize=4096)
def disposition(kind: str, name: str) -> str:
    """A Content-Disposition header (``inline`` or ``attachment``) naming the file
    (remembered: the same few names are asked for again and again)."""
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def with_charset(content_type: str) -> str:
    """``text/*`` types say UTF-8, as Starlette adds to a ``media_type`` without one."""
    if content_type.startswith("text/") and "charset=" not in content_type.lower():
        return content_type + "; charset=utf-8"
    return content_type


@functools.lru_cache(maxsize=4096)
def http_date(moment: datetime) -> str:
    """``moment`` as an HTTP date (remembered: a blob's modification time is asked again
    and again)."""
    return format_datetime(moment, usegmt=True)


def local_info(key: str, found: os.stat_result) -> BlobInfo:
    """A local blob's ``BlobInfo`` from one ``stat`` (LocalBlobStore.stat's entity tag; the
    content type, which a link carries itself, is not read)."""
    return stat_info(key, found.st_mode, found.st_size, found.st_mtime_ns, found.st_mtime)


def stat_info(key: str, mode: int, size: int, mtime_ns: int, mtime: float) -> BlobInfo:
    """``local_info`` from the ``stat`` fields it reads."""
    if not stat.S_ISREG(mode):
        raise BlobNotFound(key)
    return BlobInfo(
        key=key,
        size=size,
        etag=f'"{size:x}-{mtime_ns:x}"',
        content_type="application/octet-stream",
        modified=datetime.fromtimestamp(mtime, UTC),
    )


def answer(
    asked: Asked,
    info: BlobInfo,
    *,
    content_type: str,
    disposition: str,
    immutable: bool,
    content_addressed: bool,
) -> Answer:
    """The answer to ``asked`` for the blob ``info``: 304 when If-None-Match names its
    entity tag, 416 past its end, 206 for the ranges If-Range allows, else 200 with all of
    it. Content-addressed blobs are tagged by their digest (the key's last segment)."""
    etag = f'"{info.key.rsplit("/", 1)[-1]}"' if content_addressed else info.etag
    headers = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE if immutable else PRIVATE,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Content-Disposition": disposition,
        "Accept-Ranges": "bytes",
    }
    if ranges.etag_matches(asked.if_none_match, etag):
        return Answer(304, headers, ())
    size = info.size
    last_modified = http_date(info.modified)
    headers["Last-Modified"] = last_modified
    wanted = None
    if ranges.if_range_holds(asked.if_range, etag, last_modified):
        try:
            wanted = ranges.parse_range(asked.range, size)
        except ranges.Unsatisfiable:
            headers |= {"Content-Range": f"bytes */{size}", "Content-Length": "0"}
            return Answer(416, headers, ())
    if wanted is not None and len(wanted) > 1:
        return Answer(206, headers, tuple(wanted))
    start, end = (0, size) if wanted is None else wanted[0]
    headers["Content-Length"] = str(end - start)
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Type"] = with_charset(content_type)
    return Answer(200 if wanted is None else 206, headers, ((start, end),))
