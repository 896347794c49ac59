"""``GET /media/{token}/{key}``: a video's blobs under a signed prefix, for players.

An HLS player fetches the master playlist, then each rendition's playlist and its segments
by URIs relative to the playlist, so the signature lives in the path (one token for the
whole ``videos/{id}/`` prefix, ``lms.files.signing.sign_prefix``), not in a query string
relative URIs would drop. No cookie or bearer is needed: a CDN may cache the answers;
everything but caption tracks (which an instructor may replace) is sent ``immutable``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from lms.files import signing
from lms.files.routes import StorageDep
from lms.files.service import FileStorage
from lms.files.serving import blob_response, disposition
from lms.video.service import CONTENT_TYPES
from ops.guards import guard

router = APIRouter()


@guard
async def signed_prefix(request: Request) -> signing.PrefixGrant:
    """Access rule of /media: the path's own signature, expiry and prefix (403 otherwise);
    a coroutine, so FastAPI does not send it to a worker thread on every segment."""
    storage: FileStorage = request.app.state.files
    params = request.path_params
    return signing.verify_prefix(storage.secret, params["token"], params["key"])


Grant = Annotated[signing.PrefixGrant, Depends(signed_prefix)]


@router.get("/media/{token}/{key:path}", include_in_schema=False)
@router.head("/media/{token}/{key:path}", include_in_schema=False)
async def serve_media(request: Request, key: str, grant: Grant, storage: StorageDep) -> Response:
    """One blob of a video: a playlist, a segment, the poster, thumbnails or captions."""
    name = key.rsplit("/", 1)[-1]
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return await blob_response(
        request,
        storage,
        key,
        content_type=CONTENT_TYPES.get(suffix, "application/octet-stream"),
        disposition=disposition("inline", name),
        immutable="/captions/" not in key,
    )
