"""Demo data for ``liveclass demo``: an instructor, students, a course with its live room
and some content (two modules, a published page, a link, the live session)."""

from __future__ import annotations

from dataclasses import dataclass

import pycrdt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lms.accounts import service
from lms.content import pages, render
from persistence.models import (
    Course,
    CourseModule,
    DocumentUpdate,
    Enrollment,
    ModuleItem,
    Page,
    Room,
    User,
)
from settings import Settings

DEMO_PASSWORD = "liveclass-demo"
COURSE_CODE = "DEMO-101"
PEOPLE = [("instructor@demo.liveclass", "Ada Instructor", "instructor")] + [
    (f"student{i}@demo.liveclass", f"Student {i}", "student") for i in (1, 2, 3)
]


@dataclass(frozen=True)
class Demo:
    """What the demo created (or found from an earlier run)."""

    people: list[tuple[str, str]]
    course_id: str
    room_id: str


async def seed(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Demo:
    """Create the demo data once; running it again changes nothing."""
    async with sessions() as session:
        users = [await _person(session, settings, *p) for p in PEOPLE]
        course = await _course(session, users)
        room = await _room(session, course, users[0])
        await _content(session, course, room, users[0])
        await session.commit()
        return Demo([(u.email, u.role) for u in users], str(course.id), str(room.id))


async def _person(
    session: AsyncSession, settings: Settings, email: str, name: str, role: str
) -> User:
    user = await service.find_by_email(session, email)
    if user is None:
        user = await service.create_user(
            session, email=email, password=DEMO_PASSWORD, name=name, role=role, settings=settings
        )
    return user


async def _course(session: AsyncSession, users: list[User]) -> Course:
    found = (
        await session.execute(select(Course).where(Course.code == COURSE_CODE))
    ).scalar_one_or_none()
    if found is not None:
        return found
    course = Course(
        code=COURSE_CODE,
        title="Introduction to Live Classes",
        status="published",
        description="A demo course: join its live room as the instructor or a student.",
        created_by=users[0].id,
    )
    session.add(course)
    await session.flush()
    for user in users:
        session.add(Enrollment(course_id=course.id, user_id=user.id, role=user.role))
    return course


async def _room(session: AsyncSession, course: Course, host: User) -> Room:
    query = select(Room).where(Room.course_id == course.id, Room.parent_id.is_(None))
    found = (await session.execute(query)).scalars().first()
    if found is not None:
        return found
    room = Room(title="Week 1: Welcome", created_by=host.id, course_id=course.id, settings={})
    session.add(room)
    await session.flush()
    return room


WELCOME = """# Welcome

This course shows what a liveclass course holds: modules that open in order, pages the
instructors write together, links, and the live class itself.

- Read this page, then open the live session.
- *Week 2* opens once you have finished *Week 1*.
"""


async def _content(session: AsyncSession, course: Course, room: Room, host: User) -> None:
    query = select(CourseModule.id).where(CourseModule.course_id == course.id)
    if (await session.execute(query)).first() is not None:
        return
    page = Page(course_id=course.id, title="Welcome", created_by=host.id, published_by=host.id)
    page.published_markdown, page.published_html = WELCOME, render.render(WELCOME)
    page.published_at = page.created_at = course.created_at
    session.add(page)
    await session.flush()
    doc: pycrdt.Doc[pycrdt.Text] = pycrdt.Doc({"notes": pycrdt.Text(WELCOME)})
    session.add(DocumentUpdate(doc=pages.document_of(page), data=doc.get_update()))
    week1 = CourseModule(course_id=course.id, title="Week 1", position=0, published=True)
    session.add(week1)
    await session.flush()
    week2 = CourseModule(
        course_id=course.id,
        title="Week 2",
        position=1,
        published=True,
        prerequisites=[str(week1.id)],
    )
    session.add(week2)
    items = [
        ModuleItem(kind="page", title="Welcome", target_id=page.id),
        ModuleItem(kind="live_session", title="Live class: Welcome", target_id=room.id),
        ModuleItem(kind="link", title="What is a CRDT?", url="https://crdt.tech/"),
    ]
    for position, item in enumerate(items):
        item.course_id, item.module_id, item.position = course.id, week1.id, position
        item.published, item.requirement = True, "view"
        session.add(item)
    await session.flush()
    session.add(
        ModuleItem(
            course_id=course.id,
            module_id=week2.id,
            kind="link",
            title="Further reading: Yjs",
            url="https://docs.yjs.dev/",
            position=0,
            published=True,
        )
    )
