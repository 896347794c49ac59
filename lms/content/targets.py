"""What a module item may point at: a page, file, video, room, quiz, assignment or lab of the
same course, or a web address. Checked whenever an item is created or changed, so a learner
never follows an item into another course's content."""

from __future__ import annotations

from typing import Final, cast

from sqlalchemy.ext.asyncio import AsyncSession

from lms.errors import InvalidInput
from persistence.models import Assignment, File, Lab, ModuleItem, Page, Quiz, Room, Video

Shown = Page | Video | Room | Quiz | Assignment | Lab
# Each kind of item that shows a row of the course by ``target_id``: that row's model and
# what the error calls it.
SHOWN: Final[dict[str, tuple[type[Shown], str]]] = {
    "page": (Page, "page"),
    "video": (Video, "video"),
    "live_session": (Room, "live room"),
    "quiz": (Quiz, "quiz"),
    "assignment": (Assignment, "assignment"),
    "lab": (Lab, "lab"),
}


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
    shown = SHOWN.get(item.kind)
    if shown is None:
        raise InvalidInput(f"{item.kind} items are not available on this server yet.")
    model, noun = shown
    # (mypy joins the union of models to their Base: the row is one of Shown.)
    row = cast(Shown | None, await session.get(model, item.target_id))
    if row is None or row.course_id != item.course_id:
        raise InvalidInput(f"target_id names no {noun} of this course.")
