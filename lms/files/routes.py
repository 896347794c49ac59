"""Files REST: tus uploads into a course, the course's files, signed download links.

Uploads (tus 1.0.0) and file changes need the EDIT course role; members read. A learner
may start an upload that another domain's rule takes (an assignment's file submission,
``LearnerUploads``) and then continue only their own upload. A PATCH holds no database
transaction while its body streams to the staging area.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from lms.audit.service import audit
from lms.auth import Principal
from lms.content import reach
from lms.courses.roles import CourseAction, may
from lms.courses.routes import authorize
from lms.deps import SessionDep
from lms.errors import Forbidden, NotFound
from lms.files import remote_uploads, service, tus
from lms.files.body import RequestBody
from lms.files.schemas import FileId, FileOut, FilePage, LinkIn, LinkOut
from lms.files.service import FileStorage
from lms.pagination import decode_cursor, encode_cursor, link_next
from lms.permissions import Permission, require
from ops.guards import public
from persistence.models import File, Upload

uploads = APIRouter(prefix="/api/v1/courses/{course_id}/uploads", tags=["files"])
files = APIRouter(tags=["files"])
UPLOAD_BODIES = re.compile(r"/api/v1/courses/[^/]+/uploads(?:/[^/]+)?")
"""Paths whose bodies are tus chunks, exempt from the request body cap."""
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Editor = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]


async def file_storage(request: Request) -> FileStorage:
    """The node's file storage (blob store, staging area, limits). A coroutine, so FastAPI
    calls it in the loop: a plain function would cost a worker-thread round trip."""
    storage: FileStorage = request.app.state.files
    return storage


StorageDep = Annotated[FileStorage, Depends(file_storage)]


async def _may_start(
    request: Request,
    session: SessionDep,
    course_id: uuid.UUID,
    principal: Principal,
    creation: tus.Creation,
) -> None:
    """Editors upload anything; a learner only what a registered rule takes."""
    _, role = await authorize(session, course_id, principal, CourseAction.VIEW)
    if may(role, CourseAction.EDIT):
        return
    rules: service.LearnerUploads = request.app.state.learner_uploads
    if role is None or not await rules.check(session, course_id, principal.user_id, creation):
        raise Forbidden("Your role in this course does not allow this.")


async def own_upload(
    course_id: uuid.UUID,
    upload_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Editor,
    storage: StorageDep,
) -> Upload:
    """The upload a tus request goes on with (the request speaks tus 1.0.0), which the caller
    may continue: any of the course's as an editor, else their own (while they are still a
    member of the course)."""
    tus.check_version(request.headers)
    _, role = await authorize(session, course_id, principal, CourseAction.VIEW)
    upload = await service.find_upload(session, storage, course_id, upload_id)
    if may(role, CourseAction.EDIT):
        return upload
    if role is None or upload.uploader_id != principal.user_id:
        raise Forbidden("Your role in this course does not allow this.")
    return upload


OwnUpload = Annotated[Upload, Depends(own_upload)]


def _location(upload: Upload) -> str:
    return f"/api/v1/courses/{upload.course_id}/uploads/{upload.id}"


@uploads.options("", dependencies=[Depends(public)], summary="tus: what this server speaks")
async def tus_options(course_id: uuid.UUID, storage: StorageDep) -> Response:
    """Version, extensions, the size cap and the checksum algorithms (no credentials)."""
    headers = tus.options_headers(max_size=storage.max_file_bytes)
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=headers)


@uploads.post("", status_code=status.HTTP_201_CREATED, summary="tus: start an upload")
async def tus_create(
    course_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Editor,
    storage: StorageDep,
) -> Response:
    """``Upload-Length`` and ``Upload-Metadata`` (filename, filetype); a body with
    ``application/offset+octet-stream`` is the first chunk (creation-with-upload)."""
    creation = tus.parse_creation(request.headers, max_size=storage.max_file_bytes)
    await _may_start(request, session, course_id, principal, creation)
    upload = await service.create_upload(
        session,
        storage,
        course_id=course_id,
        uploader_id=principal.user_id,
        creation=creation,
    )
    audit(
        session,
        request,
        "upload.create",
        target_type="upload",
        target_id=upload.id,
        course_id=str(course_id),
        length=upload.length,
    )
    await session.commit()
    offset = None
    headers: dict[str, str] = {}
    if tus.has_body(request.headers):
        offset, file = await _append(request, session, storage, upload, creation=True)
        headers = _file_headers(file)
    headers |= tus.created_headers(_location(upload), upload.expires_at, offset)
    return Response(status_code=status.HTTP_201_CREATED, headers=headers)


@uploads.head("/{upload_id}", summary="tus: how far an upload got")
async def tus_offset(upload: OwnUpload, session: SessionDep, storage: StorageDep) -> Response:
    """``Upload-Offset``: where the next PATCH starts."""
    offset = await service.upload_offset(session, storage, upload)
    headers = tus.offset_headers(offset, upload.length, upload.expires_at)
    return Response(status_code=status.HTTP_200_OK, headers=headers)


@uploads.patch(
    "/{upload_id}", status_code=status.HTTP_204_NO_CONTENT, summary="tus: append a chunk"
)
async def tus_append(
    upload: OwnUpload, request: Request, session: SessionDep, storage: StorageDep
) -> Response:
    """Append the body at ``Upload-Offset`` (409 elsewhere; 460 on a checksum mismatch;
    413 past ``Upload-Length``); the last chunk makes the file."""
    await session.commit()  # no transaction (nor SQLite's write lock) while the body streams
    offset, file = await _append(request, session, storage, upload)
    headers = tus.offset_headers(offset, upload.length, upload.expires_at)
    headers |= _file_headers(file)
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=headers)


async def _append(
    request: Request,
    session: SessionDep,
    storage: FileStorage,
    upload: Upload,
    *,
    creation: bool = False,
) -> tuple[int, File | None]:
    if storage.in_store is not None:
        offset = await remote_uploads.append(request, session, storage.in_store, upload, creation)
        if offset < upload.length:
            return offset, None
        return offset, await _completed(request, session, storage, upload)
    staging = storage.staging
    async with staging.lock(upload.id):
        offset = staging.offset(upload.id)
        append = tus.parse_append(
            request.headers, offset=offset, length=upload.length, creation=creation
        )
        try:
            offset = await staging.append(
                upload.id,
                append.offset,
                RequestBody(request),
                limit=upload.length - append.offset,
                checksum=append.checksum,
            )
        except ClientDisconnect:
            return staging.offset(upload.id), None  # kept: the client resumes from there
        if offset < upload.length:
            return offset, None
        return offset, await _completed(request, session, storage, upload)


async def _completed(
    request: Request, session: SessionDep, storage: FileStorage, upload: Upload
) -> File:
    """The upload's last byte arrived: make and audit its file."""
    file = await service.complete(session, storage, upload)
    audit(
        session,
        request,
        "file.create",
        target_type="file",
        target_id=file.id,
        course_id=str(upload.course_id),
        upload_id=str(upload.id),
        size=file.size,
        content_type=file.content_type,
    )
    await session.commit()
    return file


def _file_headers(file: File | None) -> dict[str, str]:
    return {} if file is None else {"Content-Location": f"/api/v1/files/{file.id}"}


@uploads.delete(
    "/{upload_id}", status_code=status.HTTP_204_NO_CONTENT, summary="tus: abandon an upload"
)
async def tus_terminate(
    upload: OwnUpload, request: Request, session: SessionDep, storage: StorageDep
) -> Response:
    """Termination: the staged bytes are removed and the upload is forgotten."""
    async with storage.staging.lock(upload.id):
        await service.terminate(session, storage, upload)
        audit(session, request, "upload.terminate", target_type="upload", target_id=upload.id)
        await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers={"Tus-Resumable": "1.0.0"})


@files.get("/api/v1/courses/{course_id}/files", summary="A course's files")
async def list_files(
    course_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FilePage:
    """The course's staff see all its files, oldest first (learners reach files through
    the items of open modules)."""
    await authorize(session, course_id, principal, CourseAction.VIEW_DRAFTS)
    rows, after = await service.list_files(
        session, course_id, after=decode_cursor(cursor), limit=limit
    )
    following = encode_cursor(after) if after is not None else None
    link_next(request, response, following)
    return FilePage(items=[FileOut.model_validate(r) for r in rows], next=following)


async def _member_file(
    session: SessionDep, principal: Principal, file_id: int
) -> tuple[File, bool]:
    row = await service.get_file(session, file_id)
    course, role = await authorize(session, row.course_id, principal, CourseAction.VIEW)
    if not await reach.reaches_file(session, course, role, principal.user_id, row.id):
        raise NotFound("No such file.")
    return row, service.may_download(role, row)


@files.get("/api/v1/files/{file_id}", summary="One file")
async def get_file(file_id: FileId, session: SessionDep, principal: Reader) -> FileOut:
    """A file the caller reaches: staff any of the course's; learners those shown by a
    published item of an open module."""
    row, _ = await _member_file(session, principal, file_id)
    return FileOut.model_validate(row)


@files.post("/api/v1/files/{file_id}/link", summary="A signed download link")
async def file_link(
    file_id: FileId,
    session: SessionDep,
    principal: Reader,
    storage: StorageDep,
    body: LinkIn | None = None,
) -> LinkOut:
    """A short-lived URL that serves the bytes without credentials (CDN-cacheable)."""
    row, allowed = await _member_file(session, principal, file_id)
    if not allowed:
        raise Forbidden("Only the course's editors download the original of a video.")
    url, expires, disposition = service.link(storage, row, (body or LinkIn()).disposition)
    return LinkOut(url=url, expires_at=expires, disposition=disposition)


@files.delete(
    "/api/v1/files/{file_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a file"
)
async def delete_file(
    file_id: FileId, request: Request, session: SessionDep, principal: Editor, storage: StorageDep
) -> Response:
    """Editors of the course delete its files."""
    row = await service.get_file(session, file_id)
    await authorize(session, row.course_id, principal, CourseAction.EDIT)
    orphan = await service.delete_file(session, row)
    audit(
        session,
        request,
        "file.delete",
        target_type="file",
        target_id=file_id,
        course_id=str(row.course_id),
    )
    await session.commit()
    if orphan is not None:
        await storage.blobs.delete(orphan)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
