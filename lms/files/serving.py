"""``GET /blobs/{key}``: the bytes behind a signed link, with no cookie or bearer needed so
a CDN may cache them. Range (one range 206, several multipart/byteranges, 416 past the
end), If-None-Match (304) and If-Range, the same rules (``answers``) for every store.

Most downloads of local blobs never reach this route: the byte-serving fast path of the
HTTP protocol (``lms.files.fast``, ``ops.fastpath``) answers them with ``sendfile`` from the
same ``answers``. What it hands over comes here: S3-compatible stores, refused or broken
links, multipart ranges, requests with a body, and every request when the fast path is off
(``LIVECLASS_FAST_SERVING``).

Per request the cost is kept to what the bytes need (docs/benchmarks.md, "Content: uploads
and file serving"): the access rule and the storage dependency are coroutines (a plain
function is sent to a worker thread), a local blob is stat'ed once, and a body of up to
``WHOLE`` bytes (an HLS segment, a ranged read) is read in one worker-thread call and sent
as one message; larger bodies stream in 1 MiB reads."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response, StreamingResponse

from lms.files import answers, signing
from lms.files.routes import StorageDep
from lms.files.service import FileStorage, is_immutable
from ops.guards import guard
from persistence.blobs import BlobInfo, BlobNotFound, BlobStore, InvalidKey

WHOLE = 1 << 20
"""Bodies up to this size are read at once and sent in one message (no streaming task)."""


@guard
async def signed_link(request: Request) -> signing.Link:
    """Access rule of /blobs: the link's own signature and expiry (403 otherwise); a
    coroutine so that FastAPI does not send it to a worker thread."""
    storage: FileStorage = request.app.state.files
    key = request.path_params["key"]
    return signing.verify(storage.secret, key, dict(request.query_params))


SignedLink = Annotated[signing.Link, Depends(signed_link)]
router = APIRouter()


@router.get("/blobs/{key:path}", include_in_schema=False)
@router.head("/blobs/{key:path}", include_in_schema=False)
async def serve_blob(request: Request, link: SignedLink, storage: StorageDep) -> Response:
    """Serve the linked blob as the link says (type, disposition, name)."""
    return await blob_response(
        request,
        storage,
        link.key,
        content_type=link.content_type,
        disposition=answers.disposition(link.disposition, link.name),
        immutable=is_immutable(link.key),
    )


async def blob_response(
    request: Request,
    storage: FileStorage,
    key: str,
    *,
    content_type: str,
    disposition: str,
    immutable: bool,
) -> Response:
    """The blob ``key`` as an answer to ``request``: ETag and 304, Range and If-Range,
    ``immutable`` caching for bytes that never change under their key."""
    path: Path | None = None
    try:
        path = storage.blobs.local_path(key)
        if path is None:
            info = await storage.blobs.stat(key)
        else:
            info = answers.local_info(key, os.stat(path))
    except (BlobNotFound, InvalidKey, FileNotFoundError, NotADirectoryError):
        return Response(status_code=404, headers=answers.NOT_FOUND_HEADERS)
    asked = answers.Asked(
        if_none_match=request.headers.get("if-none-match"),
        if_range=request.headers.get("if-range"),
        range=request.headers.get("range"),
    )
    found = answers.answer(
        asked,
        info,
        content_type=content_type,
        disposition=disposition,
        immutable=immutable,
        content_addressed=is_immutable(key),
    )
    head = request.method == "HEAD"
    if found.multipart:
        return _multipart(found, storage.blobs, info, content_type, head=head)
    if not found.ranges or head:
        return Response(status_code=found.status, headers=found.headers)
    ((start, end),) = found.ranges
    if end - start <= WHOLE:
        try:
            body = await _read_whole(storage.blobs, key, path, start, end)
        except (BlobNotFound, FileNotFoundError):  # deleted since the stat
            return Response(status_code=404, headers=answers.NOT_FOUND_HEADERS)
        return Response(body, status_code=found.status, headers=found.headers)
    chunks = storage.blobs.read(key, start, end)
    return StreamingResponse(chunks, status_code=found.status, headers=found.headers)


def _multipart(
    found: answers.Answer, blobs: BlobStore, info: BlobInfo, content_type: str, *, head: bool
) -> Response:
    """Several ranges as one ``multipart/byteranges`` body."""
    size, wanted = info.size, found.ranges
    boundary = secrets.token_hex(16)
    parts = [
        (
            f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n"
        ).encode()
        for start, end in wanted
    ]
    closing = f"\r\n--{boundary}--\r\n".encode()
    length = sum(len(p) for p in parts) + sum(e - s for s, e in wanted) + 2 * (len(wanted) - 1)
    headers = {**found.headers, "Content-Length": str(length + len(closing))}
    kind = f"multipart/byteranges; boundary={boundary}"
    if head:
        return Response(status_code=206, headers=headers, media_type=kind)

    async def multipart() -> AsyncIterator[bytes]:
        for index, (part, (start, end)) in enumerate(zip(parts, wanted, strict=True)):
            yield (b"\r\n" if index else b"") + part
            async for chunk in blobs.read(info.key, start, end):
                yield chunk
        yield closing

    return StreamingResponse(multipart(), status_code=206, headers=headers, media_type=kind)


async def _read_whole(blobs: BlobStore, key: str, path: Path | None, start: int, end: int) -> bytes:
    """Bytes ``start`` to ``end`` of a blob, read at once: a local file in one
    worker-thread call (open, pread, close), another store through its reader."""
    if path is not None:
        return await asyncio.to_thread(_pread, path, start, end)
    return b"".join([chunk async for chunk in blobs.read(key, start, end)])


def _pread(path: Path, start: int, end: int) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        pieces = []
        while start < end:
            piece = os.pread(fd, end - start, start)
            if not piece:
                raise BlobNotFound(f"{path.name} ended at {start} bytes")  # replaced under us
            pieces.append(piece)
            start += len(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)
    finally:
        os.close(fd)
