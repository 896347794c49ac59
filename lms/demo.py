"""Demo data for ``liveclass demo``: an instructor, students, a course and its live room."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lms.accounts import service
from persistence.models import Course, Enrollment, Room, User
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
