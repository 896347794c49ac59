"""Course pages: created empty, edited live as a Yjs document (`page_access`), published as
a snapshot of that document's Markdown rendered to sanitized HTML (`render`).

The published HTML is what students read; edits after publishing stay in the draft until
the next publish. The snapshot is taken from the durable update log, which holds every edit
the server has acknowledged to an editor.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pycrdt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import emit
from lms.content import page_access, render, structure
from lms.content.events import PAGE_PUBLISHED, PagePublished
from lms.errors import InvalidInput, NotFound
from persistence.documents import current_doc
from persistence.models import Page
from realtime.yjs.nesting import existing_root

MAX_PAGES_PER_COURSE = 2000


async def page(session: AsyncSession, page_id: uuid.UUID) -> Page:
    """A page by id, or 404."""
    found = await session.get(Page, page_id)
    if found is None:
        raise NotFound("No such page.")
    return found


async def pages_of(session: AsyncSession, course_id: uuid.UUID) -> list[Page]:
    """A course's pages by title."""
    query = select(Page).where(Page.course_id == course_id).order_by(Page.title, Page.id)
    return list((await session.scalars(query)).all())


def document_of(target: Page) -> str:
    """The Yjs document of a page's body."""
    return page_access.document_name(target.course_id, target.id)


async def draft_markdown(session: AsyncSession, target: Page) -> str:
    """The Markdown of the page's live document as stored now."""
    doc = await current_doc(session, document_of(target))
    text = existing_root(doc, "notes", pycrdt.Text)
    return "" if text is None else str(text)


async def publish(session: AsyncSession, target: Page, by: uuid.UUID, now: datetime) -> None:
    """Make the draft as it is now the version students read."""
    markdown = await draft_markdown(session, target)
    try:
        html = render.render(markdown)
    except render.PageTooLongError as exc:
        raise InvalidInput(str(exc)) from None
    target.published_markdown = markdown
    target.published_html = html
    target.published_at = now
    target.published_by = by
    payload = PagePublished(
        page_id=target.id, course_id=target.course_id, published_by=by, published_at=now
    )
    await emit(session, PAGE_PUBLISHED, payload, aggregate_id=target.id)


def unpublish(target: Page) -> None:
    """Students no longer see the page (its draft stays)."""
    target.published_markdown = target.published_html = None
    target.published_at = None


async def delete(session: AsyncSession, target: Page) -> None:
    """Delete a page and the items that show it (the route erases its document)."""
    await structure.delete_items_showing(session, "page", target.id)
    await session.delete(target)
