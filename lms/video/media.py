"""``GET /media/{token}/{key}``: a video's blobs under a signed prefix, for players.

An HLS player fetches the master playlist, then each rendition's playlist and its segments
by URIs relative to the playlist, so the signature lives in the path (one token for the
whole ``videos/{id}/`` prefix, ``lms.files.signing.sign_prefix``), not in a query string
relative URIs would drop. No cookie or bearer is needed: a CDN may cache the answers;
everything but caption tracks (which an instructor may replace) is sent ``immutable``.

The access rule needs no I/O (an HMAC over the prefix and its expiry), so the byte-serving
fast path (``media_responder``, ``ops.fastpath``) answers local blobs itself with the same
rule and headers; this route answers what it hands over (refusals, S3, multipart ranges).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from lms.files import signing
from lms.files.answers import disposition
from lms.files.errors import LinkRefused
from lms.files.fast import local_answer
from lms.files.routes import StorageDep
from lms.files.service import FileStorage
from lms.files.serving import blob_response
from lms.video.service import CONTENT_TYPES
from ops.fastpath import FastAnswer, FastRequest, Responder
from ops.guards import guard
from persistence.blobs import LocalBlobStore

ROUTE = "/media/{token}/{key:path}"
router = APIRouter()


@guard
async def signed_prefix(request: Request) -> signing.PrefixGrant:
    """Access rule of /media: the path's own signature, expiry and prefix (403 otherwise);
    a coroutine, so FastAPI does not send it to a worker thread on every segment."""
    storage: FileStorage = request.app.state.files
    params = request.path_params
    return signing.verify_prefix(storage.secret, params["token"], params["key"])


Grant = Annotated[signing.PrefixGrant, Depends(signed_prefix)]


@dataclass(frozen=True)
class Served:
    """How one blob of a video is served: its type, disposition and caching."""

    content_type: str
    disposition: str
    immutable: bool


def served_as(key: str) -> Served:
    """A playlist, segment, poster, thumbnail or caption track by its name; caption tracks
    may be replaced, so only they are not ``immutable``."""
    name = key.rsplit("/", 1)[-1]
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return Served(
        content_type=CONTENT_TYPES.get(suffix, "application/octet-stream"),
        disposition=disposition("inline", name),
        immutable="/captions/" not in key,
    )


@router.get(ROUTE, include_in_schema=False)
@router.head(ROUTE, include_in_schema=False)
async def serve_media(request: Request, key: str, grant: Grant, storage: StorageDep) -> Response:
    """One blob of a video: a playlist, a segment, the poster, thumbnails or captions."""
    served = served_as(key)
    return await blob_response(
        request,
        storage,
        key,
        content_type=served.content_type,
        disposition=served.disposition,
        immutable=served.immutable,
    )


def media_responder(secret: str, blobs: LocalBlobStore) -> Responder:
    """The fast path's responder of ``/media/{token}/{key}`` (this route's rule)."""
    skip = len(signing.MEDIA_PREFIX)

    def respond(request: FastRequest) -> FastAnswer | None:
        token, slash, key = request.path[skip:].partition("/")
        if not token or not slash:
            return None  # not this route's shape: the app answers (404)
        try:
            signing.verify_prefix(secret, token, key)
        except LinkRefused:
            return None
        served = served_as(key)
        return local_answer(
            request,
            blobs,
            key,
            content_type=served.content_type,
            disposition=served.disposition,
            immutable=served.immutable,
            route=ROUTE,
        )

    return respond
