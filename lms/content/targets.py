"""What a module item may point at: a page, file, video, room, quiz, assignment or lab of the
same course, or a web address. Checked whenever an item is created or changed, so a learner
never follows an item into another course's content."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from lms.errors import InvalidInput
from persistence.models import Assignment, File, Lab, ModuleItem, Page, Quiz, Room, Video


async def check_target(session: AsyncSession, item: ModuleItem) -> None:
    """Refuse an item whose target is missing, of another course or of the wrong kind."""
    if item.kind == "link":
        if not item.url:
            raise InvalidInput("A link item needs a url (http or https).")
        item.target_id = None
        return
    item.url = None
    if item.kind == "file":
        found = await session.get(File, item.file_id) if item.file_id else None
        if found is None or found.course_id != item.course_id:
            raise InvalidInput("file_id names no file of this course.")
        item.target_id = None
        return
    item.file_id = None
    if item.target_id is None:
        raise InvalidInput(f"A {item.kind.replace('_', ' ')} item needs a target_id.")
    if item.kind == "page":
        page = await session.get(Page, item.target_id)
        if page is None or page.course_id != item.course_id:
            raise InvalidInput("target_id names no page of this course.")
    elif item.kind == "video":
        video = await session.get(Video, item.target_id)
        if video is None or video.course_id != item.course_id:
            raise InvalidInput("target_id names no video of this course.")
    elif item.kind == "live_session":
        room = await session.get(Room, item.target_id)
        if room is None or room.course_id != item.course_id:
            raise InvalidInput("target_id names no live room of this course.")
    elif item.kind == "quiz":
        quiz = await session.get(Quiz, item.target_id)
        if quiz is None or quiz.course_id != item.course_id:
            raise InvalidInput("target_id names no quiz of this course.")
    elif item.kind == "assignment":
        assignment = await session.get(Assignment, item.target_id)
        if assignment is None or assignment.course_id != item.course_id:
            raise InvalidInput("target_id names no assignment of this course.")
    elif item.kind == "lab":
        lab = await session.get(Lab, item.target_id)
        if lab is None or lab.course_id != item.course_id:
            raise InvalidInput("target_id names no lab of this course.")
    else:
        raise InvalidInput(f"{item.kind} items are not available on this server yet.")
