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

import os
from urllib.parse import parse_qsl

from lms.files import answers, signing
from lms.files.errors import LinkRefused
from lms.files.service import is_immutable
from ops.fastpath import FastAnswer, FastRequest, Responder
from persistence.blobs import BlobNotFound, InvalidKey, LocalBlobStore

BLOB_ROUTE = "/blobs/{key:path}"
"""The ASGI route's template: fast answers are counted under it too."""


def blob_responder(secret: str, blobs: LocalBlobStore) -> Responder:
    """The responder of ``/blobs/{key}`` (``lms.files.serving.serve_blob``'s rule)."""
    skip = len(signing.PREFIX)

    def respond(request: FastRequest) -> FastAnswer | None:
        key = request.path[skip:]
        # The query as Starlette's ``request.query_params`` reads it (the last value wins).
        query = dict(parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True))
        try:
            link = signing.verify(secret, key, query)
        except LinkRefused:
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
        info = answers.local_info(key, os.fstat(fd))
        found = answers.answer(
            answers.Asked(
                if_none_match=request.header(b"if-none-match"),
                if_range=request.header(b"if-range"),
                range=request.header(b"range"),
            ),
            info,
            content_type=content_type,
            disposition=disposition,
            immutable=immutable,
            content_addressed=is_immutable(key),
        )
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in found.headers.items()
        ]
    except (BlobNotFound, UnicodeEncodeError):
        os.close(fd)
        return None
    if found.multipart:
        os.close(fd)
        return None
    if not found.ranges or request.method == "HEAD":
        os.close(fd)
        return FastAnswer(found.status, headers, route)
    ((start, end),) = found.ranges
    return FastAnswer(found.status, headers, route, fd=fd, offset=start, count=end - start)
