"""``GET /blobs/{key}``: the bytes behind a signed link, with no cookie or bearer needed so
a CDN may cache them. Range (one range 206, several multipart/byteranges, 416 past the
end), If-None-Match (304) and If-Range; local blobs through Starlette's FileResponse."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from email.utils import format_datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.responses import FileResponse, Response, StreamingResponse

from lms.files import ranges, signing
from lms.files.routes import StorageDep
from lms.files.service import FileStorage, is_immutable
from ops.guards import guard
from persistence.blobs import BlobInfo, BlobNotFound, BlobStore, InvalidKey

IMMUTABLE = "public, max-age=31536000, immutable"


@guard
def signed_link(request: Request) -> signing.Link:
    """Access rule of /blobs: the link's own signature and expiry (403 otherwise)."""
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
    try:
        info = await storage.blobs.stat(key)
    except (BlobNotFound, InvalidKey):
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
    path = storage.blobs.local_path(key)
    if path is not None:
        return FileResponse(path, headers=headers, media_type=content_type, stat_result=None)
    return await _ranged(request, storage.blobs, info, key, content_type, headers)


def disposition(kind: str, name: str) -> str:
    """A Content-Disposition header (``inline`` or ``attachment``) naming the file."""
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


async def _ranged(
    request: Request,
    blobs: BlobStore,
    info: BlobInfo,
    key: str,
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
            return Response(status_code=416, headers={**headers, "Content-Range": f"*/{size}"})
    head = request.method == "HEAD"
    if wanted is None:
        headers["Content-Length"] = str(size)
        body = None if head else blobs.read(key)
        return _stream(body, 200, headers, content_type)
    if len(wanted) == 1:
        start, end = wanted[0]
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        headers["Content-Length"] = str(end - start)
        body = None if head else blobs.read(key, start, end)
        return _stream(body, 206, headers, content_type)
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
