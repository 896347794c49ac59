"""Documents REST: a room document's content, named versions, restore, delete.

Room members read; room hosts save versions, restore them and delete documents (audited).
Writes reach connected clients: a restore is a new Yjs update through the same durable
pipeline as any edit; a delete closes their connections with 4004.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from sqlalchemy import select
from starlette.responses import Response

from lms.audit.service import audit
from lms.auth import Principal
from lms.deps import DocumentsDep, SessionDep
from lms.documents import model
from lms.documents.schemas import DocumentOut, Kind, VersionContentOut, VersionIn, VersionOut
from lms.errors import Conflict, NotFound, Unavailable
from lms.permissions import Permission, require
from lms.rooms import access
from persistence.documents import current_doc, current_state
from persistence.models import DocumentVersion, Room
from realtime.errors import RealtimeError
from realtime.yjs.errors import YjsError
from rooms.documents import document_name

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])
Reader = Annotated[Principal, Depends(require(Permission.ROOMS_READ))]
Manager = Annotated[Principal, Depends(require(Permission.ROOMS_MANAGE))]
MAX_VERSIONS = 200


async def _readable(session: SessionDep, room_id: uuid.UUID, principal: Principal) -> Room:
    """The room if the caller may read its documents: members, and anyone for an open room."""
    room = await access.load_room(session, room_id)
    member = await access.membership(session, room.id, principal.user_id)
    role = await access.role_in(session, room, principal)
    if (member is not None and member.banned) or (role is None and not room.settings.get("open")):
        raise NotFound("No such room.")
    return room


def _out(room: Room, kind: Kind, state: bytes) -> DocumentOut:
    return DocumentOut(
        name=document_name(str(room.id), kind),
        room_id=room.id,
        kind=kind,
        size=len(state),
        content=model.content(kind, state),
    )


async def _version(session: SessionDep, name: str, version_id: uuid.UUID) -> DocumentVersion:
    version = await session.get(DocumentVersion, version_id)
    if version is None or version.doc != name:
        raise NotFound("No such version of this document.")
    return version


@router.get("/rooms/{room_id}/{kind}", summary="A room document's content")
async def read_document(
    room_id: uuid.UUID, kind: Kind, session: SessionDep, principal: Reader
) -> DocumentOut:
    """Notes as Markdown and rich text, a whiteboard as JSON shapes (see docs/protocol.md)."""
    room = await _readable(session, room_id, principal)
    doc = await current_doc(session, document_name(str(room.id), kind))
    return DocumentOut(
        name=document_name(str(room.id), kind),
        room_id=room.id,
        kind=kind,
        size=len(doc.get_update()),
        content=model.doc_content(kind, doc),
    )


@router.get("/rooms/{room_id}/{kind}/versions", summary="Saved versions, newest first")
async def list_versions(
    room_id: uuid.UUID, kind: Kind, session: SessionDep, principal: Reader
) -> list[VersionOut]:
    """Every named version of the document (at most the newest 200)."""
    room = await _readable(session, room_id, principal)
    rows = await session.execute(
        select(DocumentVersion)
        .where(DocumentVersion.doc == document_name(str(room.id), kind))
        .order_by(DocumentVersion.created_at.desc())
        .limit(MAX_VERSIONS)
    )
    return [VersionOut.model_validate(v) for v in rows.scalars()]


@router.post(
    "/rooms/{room_id}/{kind}/versions",
    status_code=status.HTTP_201_CREATED,
    summary="Save the current state as a named version",
)
async def create_version(
    room_id: uuid.UUID,
    kind: Kind,
    body: VersionIn,
    request: Request,
    session: SessionDep,
    principal: Manager,
) -> VersionOut:
    """Room hosts save versions; every edit broadcast so far is in it."""
    room, _ = await access.hosted_room(session, room_id, principal)
    name = document_name(str(room.id), kind)
    state = await current_state(session, name)
    version = DocumentVersion(
        doc=name, name=body.name, data=state, size=len(state), created_by=principal.user_id
    )
    session.add(version)
    await session.flush()
    audit(
        session,
        request,
        "document.version.create",
        target_type="document",
        target_id=name,
        version_id=str(version.id),
        name=body.name,
    )
    await session.commit()
    return VersionOut.model_validate(version)


@router.get("/rooms/{room_id}/{kind}/versions/{version_id}", summary="One saved version")
async def read_version(
    room_id: uuid.UUID, kind: Kind, version_id: uuid.UUID, session: SessionDep, principal: Reader
) -> VersionContentOut:
    """A saved version with its content."""
    room = await _readable(session, room_id, principal)
    version = await _version(session, document_name(str(room.id), kind), version_id)
    out = VersionOut.model_validate(version)
    return VersionContentOut(**out.model_dump(), content=model.content(kind, version.data))


@router.post(
    "/rooms/{room_id}/{kind}/versions/{version_id}/restore",
    summary="Restore a saved version (as a new update)",
)
async def restore_version(
    room_id: uuid.UUID,
    kind: Kind,
    version_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Manager,
    service: DocumentsDep,
) -> DocumentOut:
    """Rewrite the document to the version's content; connected clients follow at once."""
    room, _ = await access.hosted_room(session, room_id, principal)
    name = document_name(str(room.id), kind)
    version = await _version(session, name, version_id)
    current = await current_state(session, name)
    audit(
        session,
        request,
        "document.version.restore",
        target_type="document",
        target_id=name,
        version_id=str(version.id),
    )
    await session.commit()  # release the connection (SQLite: the write lock) first
    try:
        await service.registry.write(name, model.restore_update(kind, current, version.data))
    except YjsError as exc:  # a document limit, or Yrs cannot rewrite what is stored
        raise Conflict(f"The version cannot be restored: {exc.reason}.") from None
    except RealtimeError as exc:
        raise Unavailable(exc.reason) from None
    return _out(room, kind, await current_state(session, name))


@router.delete(
    "/rooms/{room_id}/{kind}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a document (room hosts)",
)
async def delete_document(
    room_id: uuid.UUID,
    kind: Kind,
    request: Request,
    session: SessionDep,
    principal: Manager,
    service: DocumentsDep,
) -> Response:
    """Erase the document's content, history and versions; open connections close with 4004."""
    room, _ = await access.hosted_room(session, room_id, principal)
    name = document_name(str(room.id), kind)
    await session.commit()

    async def purge() -> None:
        rows = await service.store.delete(session, name)
        audit(
            session, request, "document.delete", target_type="document", target_id=name, rows=rows
        )
        await session.commit()

    await service.registry.delete(name, purge)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
