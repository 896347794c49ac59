"""WHIP ingest (RFC 9725): a broadcast tool (OBS) streams into a room as a host's camera.

``POST /api/v1/rooms/{id}/whip`` takes an SDP offer (``application/sdp``) with a bearer
token (an access token, or an API key with ``rooms:manage``, of someone who may host the
room) and answers ``201`` with the SDP answer and the session's ``Location``; ``DELETE``
on that URL ends it. aiortc does not trickle ICE, so ``PATCH`` answers 405. With several
nodes the stream is published on the room's media owner, and any node serves the ``DELETE``.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from starlette.exceptions import HTTPException
from starlette.responses import Response

from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import SessionDep
from lms.errors import Forbidden, NotFound, UnsupportedMediaType
from lms.permissions import Permission, require
from lms.rooms import access
from lms.rooms.media_deps import MediaDep, WhipDep
from media.errors import BadSdp, MediaUnavailable
from media.sdp import MAX_SDP_BYTES
from media.whip import SDP_CONTENT_TYPE, WhipSession, WhipSessions, whip_sources
from ops.limits import BodyTooLarge
from rooms.media import MediaSignalling
from rooms.media_commands import SOURCE_GRANT
from rooms.roles import grants_for

router = APIRouter(prefix="/api/v1/rooms", tags=["whip"])
Host = Annotated[Principal, Depends(require(Permission.ROOMS_MANAGE))]
SDP_BODY = {
    "requestBody": {
        "required": True,
        "content": {SDP_CONTENT_TYPE: {"schema": {"type": "string"}}},
    }
}


def _available(media: MediaSignalling | None) -> MediaSignalling:
    """The node's media signalling, or 503 when media is disabled."""
    if media is None:
        raise MediaUnavailable("Media is disabled on this server.")
    return media


def _location(room_id: object, session_id: str) -> str:
    return f"/api/v1/rooms/{room_id}/whip/{session_id}"


@router.post(
    "/{room_id}/whip",
    status_code=status.HTTP_201_CREATED,
    summary="WHIP: stream into the room (SDP offer in, SDP answer out)",
    response_class=Response,
    openapi_extra=SDP_BODY,
)
async def whip_publish(
    room_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Host,
    signalling: MediaDep,
    sessions: WhipDep,
) -> Response:
    """Publish the offer's first video as the caller's camera, first audio as microphone."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != SDP_CONTENT_TYPE:
        raise UnsupportedMediaType("Send the SDP offer as application/sdp.")
    room, role = await access.hosted_room(session, room_id, principal)
    if room.status == "ended":
        raise access.RoomGone("This class has ended.")
    body = await _read_offer(request)
    sources = whip_sources(body)  # a MediaError is a problem by its code (error_map)
    grants = grants_for(role, room.settings)
    if missing := sorted(s for s in sources.values() if SOURCE_GRANT[s] not in grants):
        raise Forbidden("Your role in this room may not publish this.", missing=missing)
    media = _available(signalling)
    await session.commit()  # hold no database lock while ICE and room events run
    ingest = _new_session(media, sessions, str(room.id), str(principal.user_id))
    try:
        answer, tracks = await media.publish_external(
            ingest.room_id,
            user_id=ingest.user_id,
            conn_id=ingest.conn_id,
            sdp=body,
            sources=sources,
        )
    except BaseException:
        sessions.drop(ingest.session_id)
        raise
    sessions.started(ingest.session_id)
    audit(
        session,
        request,
        "whip.start",
        target_type="room",
        target_id=room.id,
        session_id=ingest.session_id,
        tracks=tracks,
    )
    await session.commit()
    location = _location(room.id, ingest.session_id)
    return Response(
        answer,
        status_code=status.HTTP_201_CREATED,
        media_type=SDP_CONTENT_TYPE,
        headers={"Location": location},
    )


def _new_session(
    media: MediaSignalling, sessions: WhipSessions, room_id: str, user_id: str
) -> WhipSession:
    """A session kept on this node, or in a cluster one the owner node records in Redis."""
    if media.cluster is not None:
        return WhipSession.new(room_id, user_id)
    sessions.prune({c for r in media.sfu.rooms.values() for c in r.publishers})
    return sessions.create(room_id, user_id)


async def _find_session(
    media: MediaSignalling, sessions: WhipSessions, room_id: str, session_id: str
) -> WhipSession | None:
    if media.cluster is not None:
        return await media.cluster.ingests.find(room_id, session_id)
    return sessions.get(room_id, session_id)


async def _read_offer(request: Request) -> str:
    """The offer's text; 413 past ``MAX_SDP_BYTES`` (declared or streamed), BadSdp if not UTF-8."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_SDP_BYTES:
        raise BodyTooLarge(MAX_SDP_BYTES)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SDP_BYTES:
            raise BodyTooLarge(MAX_SDP_BYTES)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadSdp("The SDP offer is not UTF-8 text.") from None


@router.delete(
    "/{room_id}/whip/{session_id}",
    summary="WHIP: end a stream",
    response_class=Response,
)
async def whip_end(
    room_id: uuid.UUID,
    session_id: str,
    request: Request,
    session: SessionDep,
    principal: Host,
    signalling: MediaDep,
    sessions: WhipDep,
) -> Response:
    """End the ingest: its tracks are unpublished. Its owner or a room host may end it."""
    room = await access.load_room(session, room_id)
    media = _available(signalling)
    ingest = await _find_session(media, sessions, str(room.id), session_id)
    if ingest is None:
        raise NotFound("No such WHIP session.")
    if ingest.user_id != str(principal.user_id):
        await access.require_host(session, room, principal)
    audit(
        session,
        request,
        "whip.stop",
        target_type="room",
        target_id=room.id,
        session_id=ingest.session_id,
    )
    await session.commit()
    sessions.drop(ingest.session_id)
    await media.end_external(ingest.room_id, ingest.conn_id, ingest.node)
    return Response(status_code=status.HTTP_200_OK)


@router.patch(
    "/{room_id}/whip/{session_id}",
    summary="WHIP: trickle ICE / ICE restart (not supported: 405)",
    response_class=Response,
    status_code=status.HTTP_405_METHOD_NOT_ALLOWED,
)
async def whip_patch(room_id: uuid.UUID, session_id: str, principal: Host) -> Response:
    """aiortc gathers every candidate before answering; there is nothing to trickle."""
    raise HTTPException(status.HTTP_405_METHOD_NOT_ALLOWED, headers={"Allow": "DELETE"})
