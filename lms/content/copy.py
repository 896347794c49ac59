"""Course copy: a new draft course with the source's modules, pages and items (Canvas's
"copy this course"), its question banks and quizzes, its rubrics and assignments, and its
gradebook's structure (settings, groups, columns), each domain copying its own part. The
copier becomes its instructor; nobody else is enrolled, and no submission, attempt, grade
or other learner's data is copied. Dates are kept as they are (the copy takes no offset).

Pages are copied with their draft (the Yjs document's state, as one update into the new
document) and their published version; a file item's file becomes a file of the new course
holding the same stored bytes (blobs are content-addressed: nothing is copied). Live
sessions are not copied (a room belongs to the dates of one run of a course).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lms.assessments.copying import copy_assessments
from lms.assignments.copying import copy_assignments
from lms.content import pages, structure
from lms.gradebook.copying import copy_gradebook
from persistence.documents import DocumentStore, current_state
from persistence.models import Course, CourseModule, Enrollment, File, ModuleItem, Page

COPIED_KINDS = frozenset({"page", "link", "file", "quiz", "assignment"})


@dataclass
class Copied:
    """The new course and what is left to do after its transaction commits."""

    course: Course
    documents: dict[str, str] = field(default_factory=dict)  # new page document -> source
    skipped: int = 0


async def copy_course(
    session: AsyncSession, source: Course, *, code: str, title: str, by: uuid.UUID
) -> Copied:
    """Add the copy to `session` (the caller commits, then writes `documents`)."""
    course = Course(
        code=code, title=title, description=source.description, status="draft", created_by=by
    )
    session.add(course)
    await session.flush()
    session.add(Enrollment(course_id=course.id, user_id=by, role="instructor"))
    copied = Copied(course)
    page_ids: dict[uuid.UUID, uuid.UUID] = {}
    for page in await pages.pages_of(session, source.id):
        new = Page(
            course_id=course.id,
            title=page.title,
            published_markdown=page.published_markdown,
            published_html=page.published_html,
            published_at=page.published_at,
            published_by=page.published_by,
            created_by=by,
        )
        session.add(new)
        await session.flush()
        page_ids[page.id] = new.id
        copied.documents[pages.document_of(new)] = pages.document_of(page)
    quizzes = await copy_assessments(session, source.id, course.id, by=by)
    assignments = await copy_assignments(session, source.id, course.id, pages=page_ids, by=by)
    await copy_gradebook(
        session, source.id, course.id, sources={"quiz": quizzes, "assignment": assignments}
    )
    targets = {**page_ids, **quizzes, **assignments}
    module_ids: dict[str, str] = {}
    for module in await structure.modules_of(session, source.id):
        new_module = CourseModule(
            course_id=course.id,
            title=module.title,
            position=module.position,
            published=module.published,
            unlock_at=module.unlock_at,
            prerequisites=[module_ids[p] for p in module.prerequisites if p in module_ids],
        )
        session.add(new_module)
        await session.flush()
        module_ids[str(module.id)] = str(new_module.id)
    file_ids: dict[int, int] = {}
    for item in await structure.items_of(session, source.id):
        if item.kind not in COPIED_KINDS:
            copied.skipped += 1
            continue
        if item.file_id is not None and item.file_id not in file_ids:
            file_ids[item.file_id] = await _copy_file(session, item.file_id, course.id, by)
        session.add(
            ModuleItem(
                course_id=course.id,
                module_id=uuid.UUID(module_ids[str(item.module_id)]),
                kind=item.kind,
                title=item.title,
                position=item.position,
                published=item.published,
                target_id=targets.get(item.target_id) if item.target_id else None,
                url=item.url,
                file_id=file_ids.get(item.file_id) if item.file_id else None,
                requirement=item.requirement,
                min_watch=item.min_watch,
            )
        )
    await session.flush()
    return copied


async def _copy_file(
    session: AsyncSession, file_id: int, course_id: uuid.UUID, by: uuid.UUID
) -> int:
    """A file of `course_id` with the same bytes as file `file_id`; its new id."""
    original = await session.get(File, file_id)
    assert original is not None  # module_items.file_id cascades on delete
    new = File(
        course_id=course_id,
        uploader_id=by,
        name=original.name,
        size=original.size,
        sha256=original.sha256,
        blake3=original.blake3,
        content_type=original.content_type,
        blob_key=original.blob_key,
    )
    session.add(new)
    await session.flush()
    return new.id


async def copy_documents(
    sessions: async_sessionmaker[AsyncSession], store: DocumentStore, copied: Copied
) -> None:
    """Write each copied page's draft into its new document, one document in memory at a
    time (after the copy committed: the new documents' names exist nowhere else yet)."""
    for new, source in copied.documents.items():
        async with sessions() as session:
            state = await current_state(session, source)
        if len(state) > 2:  # an empty document encodes as two zero bytes
            await store.append(new, state)
