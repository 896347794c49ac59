"""Gradebook REST for moving grades in and out: the CSV export (the grid's numbers), the CSV
import (a preview of every change, then applied all or nothing with the preview's version)
and the LTI Assignment and Grade Services line items with their scores (read-only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from starlette.responses import JSONResponse, Response

from lms.audit.service import audit
from lms.auth import Principal
from lms.courses.roles import CourseAction
from lms.courses.routes import authorize
from lms.deps import SessionDep, SettingsDep
from lms.errors import InvalidInput, UnsupportedMediaType
from lms.gradebook import ags, book, service, transfer
from lms.gradebook.errors import StaleGrade
from lms.gradebook.schemas import (
    ImportAppliedOut,
    ImportChangeOut,
    ImportErrorOut,
    ImportPreviewOut,
)
from lms.pagination import decode_key_cursor, encode_key_cursor, link_next
from lms.permissions import Permission, require

router = APIRouter(prefix="/api/v1/courses/{course_id}/gradebook", tags=["gradebook"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]
CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/vnd.ms-excel")
IMPORT_REASON = "CSV import"


@router.get(
    "/export.csv",
    summary="The gradebook as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_csv(course_id: uuid.UUID, session: SessionDep, principal: Reader) -> Response:
    """A row per learner: every cell, current and final score, override and letter (the
    numbers the grid shows)."""
    course, _ = await authorize(session, course_id, principal, CourseAction.GRADE)
    text = transfer.export(await book.load(session, course_id))
    name = "".join(ch for ch in course.code if ch.isalnum() or ch in "-_") or "course"
    return Response(
        text.encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-grades.csv"'},
    )


async def _body(request: Request) -> bytes:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in CSV_TYPES:
        raise UnsupportedMediaType("Send the file as text/csv.")
    return await request.body()


def _preview_out(found: transfer.Preview) -> ImportPreviewOut:
    return ImportPreviewOut(
        rows=found.rows,
        changes=[
            ImportChangeOut(
                row=c.row,
                student_id=c.student_id,
                student=c.student,
                column_id=c.column_id,
                column=c.column,
                old=c.old,
                new=c.new,
            )
            for c in found.changes
        ],
        errors=[ImportErrorOut(row=r, message=m) for r, m in found.errors],
        version=found.version,
    )


@router.post(
    "/import/preview",
    summary="Preview a CSV import",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def import_preview(
    course_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager
) -> ImportPreviewOut:
    """Every cell the file would change (old -> new) and the errors per row; nothing is
    written. Apply it with the returned ``version``."""
    await authorize(session, course_id, principal, CourseAction.EDIT)
    data = await _body(request)
    return _preview_out(transfer.preview(await book.load(session, course_id), data))


@router.post(
    "/import/apply",
    summary="Apply a previewed CSV import",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def import_apply(
    course_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Manager,
    version: Annotated[str, Query(min_length=1, max_length=100)],
) -> ImportAppliedOut:
    """The same file again with the preview's ``version``: every change is written in one
    transaction (each in the grade history, reason "CSV import"), or none is: a file with
    errors is a 422, a gradebook changed since the preview a 409."""
    await authorize(session, course_id, principal, CourseAction.EDIT)
    data = await _body(request)
    loaded = await book.load(session, course_id)
    found = transfer.preview(loaded, data)
    if found.errors:
        raise InvalidInput(
            "The file has errors; fix them and preview it again.",
            errors=[{"row": r, "message": m} for r, m in found.errors],
        )
    if found.version != version:
        raise StaleGrade("The gradebook changed since the preview; preview the file again.")
    columns = {c.id: c for c in loaded.columns}
    for change in found.changes:
        await service.set_grade(
            session,
            columns[change.column_id],
            change.student_id,
            change.edit,
            actor_id=principal.user_id,
            reason=IMPORT_REASON,
            expect=change.before,
        )
    audit(
        session,
        request,
        "gradebook.import",
        target_type="course",
        target_id=course_id,
        changes=len(found.changes),
    )
    await session.commit()
    return ImportAppliedOut(applied=len(found.changes))


@router.get(
    "/lineitems",
    summary="LTI AGS line items with their scores",
    response_class=JSONResponse,
    responses={200: {"content": {ags.LINEITEM_CONTAINER: {}}}},
)
async def line_items(
    course_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Reader,
    settings: SettingsDep,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    """Columns as AGS line items (a JSON array, ``Link: rel="next"`` to page), each with
    its learners' AGS scores (extension member ``scores``; unposted cells are Pending)."""
    await authorize(session, course_id, principal, CourseAction.GRADE)
    loaded = await book.load(session, course_id)
    after = decode_key_cursor(cursor)
    ordered = sorted(loaded.columns, key=lambda c: c.id)
    if after is not None:
        ordered = [c for c in ordered if c.id > after]
    page = ordered[:limit]
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    response = JSONResponse(ags.container(base, loaded, page), media_type=ags.LINEITEM_CONTAINER)
    link_next(request, response, encode_key_cursor(page[-1].id) if len(ordered) > limit else None)
    response.status_code = status.HTTP_200_OK
    return response
