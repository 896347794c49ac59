"""The byte-serving fast path's responders for signed blob links (``/blobs/``), and the
local-file answer the media links (``lms.video.media``) share: ``ops.fastpath`` calls them
from the HTTP protocol and sends their answers with ``sendfile``.

A responder answers only what it can decide at once, without awaiting: a valid link to a
blob in the local store, answered 200, 206 (one range), 304 or 416 by ``answers`` (the
rules the ASGI route uses). Everything else goes to the ASGI route unchanged (None), which
answers as before: a refused link (its problem document), a missing blob (404), several
ranges (``multipart/byteranges``), stores that are not local files.
"""

from __future__ import annotations

import functools
import os
import time
from urllib.parse import parse_qsl

from lms.files import answers, signing
from lms.files.errors import LinkRefused
from lms.files.service import is_immutable
from ops.fastpath import FastAnswer, FastRequest, Responder
from persistence.blobs import BlobNotFound, InvalidKey, LocalBlobStore

BLOB_ROUTE = "/blobs/{key:path}"
"""The ASGI route's template: fast answers are counted under it too."""
VERIFIED_LINKS = 1024
"""How many verified links a responder remembers (of queries up to ``MEMO_QUERY`` bytes: a
valid link padded with parameters of its own cannot fill the memory)."""
MEMO_QUERY = 2048
MEMO_HEADERS = 512
"""Answers are remembered for conditional and range headers up to this length together."""


def blob_responder(secret: str, blobs: LocalBlobStore) -> Responder:
    """The responder of ``/blobs/{key}`` (``lms.files.serving.serve_blob``'s rule)."""
    skip = len(signing.PREFIX)
    # Links whose signature held, by key and raw query: a player or a download manager asks
    # for the same link again and again, and the signature of a key and query is a fixed
    # fact (only the expiry is checked each time). Only valid links get in, the oldest out.
    verified: dict[tuple[str, bytes], signing.Link] = {}

    def link_of(key: str, query_string: bytes) -> signing.Link | None:
        link = verified.get((key, query_string))
        if link is not None:
            return None if link.expires < time.time() else link
        # The query as Starlette's ``request.query_params`` reads it (the last value wins).
        query = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
        try:
            link = signing.verify(secret, key, query)
        except LinkRefused:
            return None
        if len(query_string) <= MEMO_QUERY:
            if len(verified) >= VERIFIED_LINKS:
                del verified[next(iter(verified))]
            verified[key, query_string] = link
        return link

    def respond(request: FastRequest) -> FastAnswer | None:
        key = request.path[skip:]
        link = link_of(key, request.query_string)
        if link is None:
            return None
        return local_answer(
            request,
            blobs,
            key,
            content_type=link.content_type,
            disposition=answers.disposition(link.disposition, link.name),
            immutable=is_immutable(key),
            route=BLOB_ROUTE,
        )

    return respond


def local_answer(
    request: FastRequest,
    blobs: LocalBlobStore,
    key: str,
    *,
    content_type: str,
    disposition: str,
    immutable: bool,
    route: str,
) -> FastAnswer | None:
    """The answer for blob ``key`` of a local store, with the file open for its body; None
    when the ASGI route must answer (not found, several ranges)."""
    try:
        fd = blobs.open_for_sending(key)
    except (BlobNotFound, InvalidKey, OSError):
        return None
    try:
        found = os.fstat(fd)
        asked = (
            request.header(b"if-none-match"),
            request.header(b"if-range"),
            request.header(b"range"),
        )
        decide = _decide if sum(len(value or "") for value in asked) <= MEMO_HEADERS else _decided
        decided = decide(
            key,
            found.st_mode,
            found.st_size,
            found.st_mtime_ns,
            found.st_mtime,
            content_type,
            disposition,
            immutable,
            *asked,
        )
    except (BlobNotFound, OSError):
        decided = None
    if decided is None or len(decided[2]) > 1:  # several ranges: multipart, the route's
        os.close(fd)
        return None
    status, headers, ranges = decided
    if not ranges or request.method == "HEAD":
        os.close(fd)
        return FastAnswer(status, list(headers), route)
    ((start, end),) = ranges
    return FastAnswer(status, list(headers), route, fd=fd, offset=start, count=end - start)


Decided = tuple[int, tuple[tuple[bytes, bytes], ...], tuple[tuple[int, int], ...]]


def _decided(
    key: str,
    mode: int,
    size: int,
    mtime_ns: int,
    mtime: float,
    content_type: str,
    disposition: str,
    immutable: bool,
    if_none_match: str | None,
    if_range: str | None,
    range_: str | None,
) -> Decided | None:
    """``answers.answer`` for a local blob's ``stat`` and the request's conditional and
    range headers, as the head's status, header lines and byte ranges; None when a header
    cannot be sent (not Latin-1). The answer is a function of exactly these arguments, and
    the same few blobs are asked for the same way again and again: ``_decide`` remembers."""
    found = answers.answer(
        answers.Asked(if_none_match=if_none_match, if_range=if_range, range=range_),
        answers.stat_info(key, mode, size, mtime_ns, mtime),
        content_type=content_type,
        disposition=disposition,
        immutable=immutable,
        content_addressed=is_immutable(key),
    )
    try:
        headers = tuple(
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in found.headers.items()
        )
    except UnicodeEncodeError:
        return None
    return found.status, headers, found.ranges


_decide = functools.lru_cache(maxsize=1024)(_decided)
"""``_decided``, remembered (for requests whose headers are short: ``MEMO_HEADERS``)."""
