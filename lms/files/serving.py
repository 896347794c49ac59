"""``GET /blobs/{key}``: the bytes behind a signed link, with no cookie or bearer needed so
a CDN may cache them. Range (one range 206, several multipart/byteranges, 416 past the
end), If-None-Match (304) and If-Range, the same rules (``ranges``) for every store.

Per request the cost is kept to what the bytes need (docs/benchmarks.md, "Content: uploads
and file serving"): the access rule and the storage dependency are coroutines (a plain
function is sent to a worker thread), a local blob is stat'ed once, and a body of up to
``WHOLE`` bytes (an HLS segment, a ranged read) is read in one worker-thread call and sent
as one message; larger bodies stream in 1 MiB reads."""

from __future__ import annotations

import asyncio
import os
import secrets
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response, StreamingResponse

from lms.files import ranges, signing
from lms.files.routes import StorageDep
from lms.files.service import FileStorage, is_immutable
from ops.guards import guard
from persistence.blobs import BlobInfo, BlobNotFound, BlobStore, InvalidKey

IMMUTABLE = "public, max-age=31536000, immutable"
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
        disposition=disposition(link.disposition, link.name),
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
        info = await storage.blobs.stat(key) if path is None else _stat(key, path)
    except (BlobNotFound, InvalidKey, FileNotFoundError, NotADirectoryError):
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    etag = f'"{key.rsplit("/", 1)[-1]}"' if is_immutable(key) else info.etag
    headers = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE if immutable else "private, max-age=300",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Content-Disposition": disposition,
        "Accept-Ranges": "bytes",
    }
    if ranges.etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return await _ranged(request, storage.blobs, info, key, path, content_type, headers)


def _stat(key: str, path: Path) -> BlobInfo:
    """A local blob's ``BlobInfo`` from one ``stat`` (LocalBlobStore.stat's entity tag; the
    content type, which a link carries itself, is not read)."""
    found = os.stat(path)
    if not stat.S_ISREG(found.st_mode):
        raise BlobNotFound(key)
    return BlobInfo(
        key=key,
        size=found.st_size,
        etag=f'"{found.st_size:x}-{found.st_mtime_ns:x}"',
        content_type="application/octet-stream",
        modified=datetime.fromtimestamp(found.st_mtime, UTC),
    )


def disposition(kind: str, name: str) -> str:
    """A Content-Disposition header (``inline`` or ``attachment``) naming the file."""
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


async def _ranged(
    request: Request,
    blobs: BlobStore,
    info: BlobInfo,
    key: str,
    path: Path | None,
    content_type: str,
    headers: dict[str, str],
) -> Response:
    size = info.size
    last_modified = format_datetime(info.modified, usegmt=True)
    headers["Last-Modified"] = last_modified
    wanted = None
    if ranges.if_range_holds(request.headers.get("if-range"), headers["ETag"], last_modified):
        try:
            wanted = ranges.parse_range(request.headers.get("range"), size)
        except ranges.Unsatisfiable:
            unsatisfied = {**headers, "Content-Range": f"bytes */{size}"}
            return Response(status_code=416, headers=unsatisfied)
    if wanted is None or len(wanted) == 1:
        start, end = (0, size) if wanted is None else wanted[0]
        headers["Content-Length"] = str(end - start)
        if wanted is not None:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        status = 200 if wanted is None else 206
        if request.method == "HEAD":
            return Response(status_code=status, headers=headers, media_type=content_type)
        if end - start <= WHOLE:
            try:
                body = await _read_whole(blobs, key, path, start, end)
            except (BlobNotFound, FileNotFoundError):  # deleted since the stat
                return Response(status_code=404, headers={"Cache-Control": "no-store"})
            return Response(body, status_code=status, headers=headers, media_type=content_type)
        chunks = blobs.read(key, start, end)
        return StreamingResponse(
            chunks, status_code=status, headers=headers, media_type=content_type
        )
    head = request.method == "HEAD"
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
    headers["Content-Length"] = str(length + len(closing))

    async def multipart() -> AsyncIterator[bytes]:
        for index, (part, (start, end)) in enumerate(zip(parts, wanted, strict=True)):
            yield (b"\r\n" if index else b"") + part
            async for chunk in blobs.read(key, start, end):
                yield chunk
        yield closing

    kind = f"multipart/byteranges; boundary={boundary}"
    return _stream(None if head else multipart(), 206, headers, kind)


def _stream(
    body: AsyncIterator[bytes] | None, status: int, headers: dict[str, str], kind: str
) -> Response:
    if body is None:
        return Response(status_code=status, headers=headers, media_type=kind)
    return StreamingResponse(body, status_code=status, headers=headers, media_type=kind)


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
