"""Pages REST: create, rename, delete, open the live draft (an editor token for the Yjs
channel), publish and unpublish, and read the published HTML."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from starlette.responses import Response

from lms.audit.service import audit
from lms.auth import Principal
from lms.content import page_access, pages
from lms.content.reach import content_for, open_item
from lms.content.schemas import EditorOut, PageIn, PageOut
from lms.courses.roles import CourseAction, may
from lms.courses.routes import authorize
from lms.deps import DocumentsDep, ReadSessionDep, SessionDep, SettingsDep
from lms.errors import Conflict, NotFound, Unavailable
from lms.permissions import Permission, require, require_reading
from persistence.models import Page, User
from realtime.errors import BrokerUnavailableError

router = APIRouter(prefix="/api/v1", tags=["content"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Manager = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]
ReadingManager = Annotated[Principal, Depends(require_reading(Permission.COURSES_MANAGE))]


def _out(page: Page, *, drafts: bool) -> PageOut:
    return PageOut(
        id=page.id,
        course_id=page.course_id,
        title=page.title,
        document=pages.document_of(page) if drafts else "",
        published_at=page.published_at,
        html=page.published_html,
    )


@router.get("/courses/{course_id}/pages", summary="A course's pages")
async def list_pages(course_id: uuid.UUID, session: SessionDep, principal: Reader) -> list[PageOut]:
    """Every page of the course by title (instructors and TAs)."""
    course, _ = await authorize(session, course_id, principal, CourseAction.VIEW_DRAFTS)
    return [_out(p, drafts=True) for p in await pages.pages_of(session, course.id)]


@router.post(
    "/courses/{course_id}/pages", status_code=status.HTTP_201_CREATED, summary="Add a page"
)
async def create_page(
    course_id: uuid.UUID, body: PageIn, request: Request, session: SessionDep, principal: Manager
) -> PageOut:
    """An empty page: open its editor to write it together, then publish it."""
    course, _ = await authorize(session, course_id, principal, CourseAction.EDIT)
    if len(await pages.pages_of(session, course.id)) >= pages.MAX_PAGES_PER_COURSE:
        raise Conflict(f"A course holds at most {pages.MAX_PAGES_PER_COURSE} pages.")
    page = Page(course_id=course.id, title=body.title, created_by=principal.user_id)
    session.add(page)
    await session.flush()
    audit(session, request, "content.page.create", target_type="page", target_id=page.id)
    await session.commit()
    return _out(page, drafts=True)


@router.get("/pages/{page_id}", summary="A page")
async def read_page(page_id: uuid.UUID, session: SessionDep, principal: Reader) -> PageOut:
    """Editors and TAs get the draft's document name; learners the published HTML, through
    an item of an open module (a locked module's page is a 403)."""
    page = await pages.page(session, page_id)
    course, role = await authorize(session, page.course_id, principal, CourseAction.VIEW)
    if may(role, CourseAction.VIEW_DRAFTS):
        return _out(page, drafts=True)
    if page.published_html is None:
        raise NotFound("No such page.")
    shown = await content_for(session, course, role, principal.user_id)
    reached = [
        i.id for m in shown.modules for i in m.items if i.kind == "page" and i.target_id == page.id
    ]
    if not reached:
        raise NotFound("No such page.")
    await open_item(session, course, role, principal.user_id, reached[0])
    return _out(page, drafts=False)


@router.patch("/pages/{page_id}", summary="Rename a page")
async def rename_page(
    page_id: uuid.UUID, body: PageIn, request: Request, session: SessionDep, principal: Manager
) -> PageOut:
    """A new title (the body is edited live through the editor)."""
    page = await pages.page(session, page_id)
    await authorize(session, page.course_id, principal, CourseAction.EDIT)
    page.title = body.title
    audit(session, request, "content.page.update", target_type="page", target_id=page.id)
    await session.commit()
    return _out(page, drafts=True)


@router.delete("/pages/{page_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a page")
async def delete_page(
    page_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Manager,
    service: DocumentsDep,
) -> Response:
    """The page, its document and history, and the items showing it; open editors close
    with 4004."""
    page = await pages.page(session, page_id)
    await authorize(session, page.course_id, principal, CourseAction.EDIT)
    name = pages.document_of(page)
    await pages.delete(session, page)
    audit(session, request, "content.page.delete", target_type="page", target_id=page_id)
    await session.commit()

    async def purge() -> None:
        await service.store.delete(session, name)
        await session.commit()

    await service.registry.delete(name, purge)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/pages/{page_id}/editor", summary="Open a page's live draft")
async def open_editor(
    page_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Reader,
) -> EditorOut:
    """A short-lived token for the Yjs channel: instructors write, TAs read."""
    page = await pages.page(session, page_id)
    _, role = await authorize(session, page.course_id, principal, CourseAction.VIEW_DRAFTS)
    user = await session.get(User, principal.user_id)
    if user is None:
        raise NotFound("No such user.")
    name = pages.document_of(page)
    token = page_access.mint(
        user_id=user.id,
        version=user.token_version,
        document=name,
        secret=settings.secret_key,
        now=datetime.now(UTC),
    )
    base = (settings.public_url or str(request.base_url)).rstrip("/").replace("http", "ws", 1)
    return EditorOut(
        document=name,
        token=token,
        url=f"{base}/yjs",
        writable=may(role, CourseAction.EDIT),
        expires_in=int(page_access.TTL.total_seconds()),
    )


@router.post("/pages/{page_id}/publish", summary="Publish a page")
async def publish_page(
    page_id: uuid.UUID,
    request: Request,
    reader: ReadSessionDep,
    session: SessionDep,
    principal: ReadingManager,
    service: DocumentsDep,
    settings: SettingsDep,
) -> PageOut:
    """The draft as it is now becomes what students read (rendered and sanitized): every
    edit any node has received from an editor is in it, even one still queued for storage
    there (503 if a node holding the page's document does not confirm in time)."""
    # Checked through the reader, and the queues waited for before the writer's first
    # statement: on SQLite that statement takes the write lock a queued edit needs.
    found = await pages.page(reader, page_id)
    await authorize(reader, found.course_id, principal, CourseAction.EDIT)
    try:
        await service.registry.settle_everywhere(
            pages.document_of(found), within=settings.yjs_settle_timeout_seconds
        )
    except BrokerUnavailableError as exc:  # DocumentNotSettledError, or Redis is down
        raise Unavailable(f"The page's editors' last edits could not be gathered: {exc}") from None
    page = await pages.page(session, page_id)
    await pages.publish(session, page, principal.user_id, datetime.now(UTC))
    audit(session, request, "content.page.publish", target_type="page", target_id=page.id)
    await session.commit()
    return _out(page, drafts=True)


@router.delete("/pages/{page_id}/publish", summary="Unpublish a page")
async def unpublish_page(
    page_id: uuid.UUID, request: Request, session: SessionDep, principal: Manager
) -> PageOut:
    """Students no longer see it; the draft stays."""
    page = await pages.page(session, page_id)
    await authorize(session, page.course_id, principal, CourseAction.EDIT)
    pages.unpublish(page)
    audit(session, request, "content.page.unpublish", target_type="page", target_id=page.id)
    await session.commit()
    return _out(page, drafts=True)
