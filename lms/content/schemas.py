"""Request and response bodies of the content API: modules, items, pages, progress."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from lms.courses.schemas import Code, Title

ItemKind = Literal["page", "file", "video", "link", "live_session", "quiz", "assignment", "lab"]
Requirement = Literal["view", "mark_done", "watch", "submit"]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
MAX_PREREQUISITES = 20


class Strict(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class ModuleIn(Strict):
    """A new module, or the fields of one to change (omitted fields stay)."""

    title: Title | None = None
    published: bool | None = None
    unlock_at: datetime | None = Field(None, description="Locked for learners until then (UTC).")
    prerequisites: Annotated[list[uuid.UUID], Field(max_length=MAX_PREREQUISITES)] | None = Field(
        None, description="Earlier modules a learner must complete first."
    )


class ItemIn(Strict):
    """A new item in a module, or the fields of one to change (omitted fields stay)."""

    kind: ItemKind | None = None
    title: Title | None = None
    published: bool | None = None
    target_id: uuid.UUID | None = Field(
        None, description="The page, file, video or room it shows (by kind)."
    )
    url: AnyHttpUrl | None = Field(None, description="A link item's address (http or https).")
    file_id: Annotated[int, Field(ge=1, le=2**62)] | None = Field(
        None, description="A file item's file (GET /api/v1/files/{id})."
    )
    starts_at: datetime | None = Field(None, description="A live session's start (UTC).")
    requirement: Requirement | None = None
    min_watch: Share | None = Field(None, description="Share of a video to watch (watch).")


class Placement(Strict):
    """Where an item goes: a module and a position in it (drag and drop)."""

    module_id: uuid.UUID
    position: Annotated[int, Field(ge=0, le=10_000)]


class Order(Strict):
    """A course's modules, or a module's items, in their new order (every id once)."""

    ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=1000)]


class ProgressOut(BaseModel):
    """A learner's progress on one item."""

    viewed: bool = False
    watched_share: float = 0.0
    position: float = 0.0
    submitted: bool = False
    completed: bool = False


class ItemOut(BaseModel):
    """An item as the caller may see it."""

    id: uuid.UUID
    module_id: uuid.UUID
    kind: ItemKind
    title: str
    position: int
    published: bool
    target_id: uuid.UUID | None
    url: str | None
    file_id: int | None
    starts_at: datetime | None
    requirement: Requirement
    min_watch: float
    progress: ProgressOut | None = Field(None, description="The caller's, when a learner.")


class ModuleOut(BaseModel):
    """A module with its items, as the caller may see it."""

    id: uuid.UUID
    title: str
    position: int
    published: bool
    unlock_at: datetime | None
    prerequisites: list[uuid.UUID]
    locked: bool = Field(description="Whether the caller may not open its items yet.")
    lock_reason: str | None = None
    completed: int = Field(description="Items the caller completed.")
    required: int = Field(description="Items with a requirement the caller sees.")
    items: list[ItemOut]


class CourseContentOut(BaseModel):
    """A course's modules in order, with the caller's progress."""

    course_id: uuid.UUID
    can_edit: bool
    modules: list[ModuleOut]
    percent: float = Field(description="Share of required items completed, 0 to 100.")


class NextItem(BaseModel):
    """An item to go to next, with its module."""

    item: ItemOut
    module_id: uuid.UUID
    module_title: str


class CourseHomeOut(BaseModel):
    """What is next for the caller in a course."""

    course_id: uuid.UUID
    title: str
    percent: float
    next: NextItem | None = Field(description="The first open item not completed yet.")
    upcoming: list[NextItem] = Field(description="Live sessions to come, soonest first.")


class PageIn(Strict):
    """A new page, or its title to change."""

    title: Title


class PageOut(BaseModel):
    """A page: its title, its document, and the published HTML if any."""

    id: uuid.UUID
    course_id: uuid.UUID
    title: str
    document: str = Field(description="The Yjs document of its body (editors only).")
    published_at: datetime | None
    html: str | None = Field(description="Sanitized HTML of the published version.")


class EditorOut(BaseModel):
    """Access to a page's live document: open `url` with the stock y-websocket provider."""

    document: str
    token: str
    url: str
    writable: bool
    expires_in: int


class ProgressIn(Strict):
    """A progress event from the player or the page: viewed, a heartbeat, marked done."""

    event: Literal["view", "heartbeat", "done"]
    played: Annotated[
        list[
            Annotated[
                list[Annotated[float, Field(ge=0, le=86_400)]], Field(min_length=2, max_length=2)
            ]
        ],
        Field(max_length=50),
    ] = Field(default_factory=list, description="Ranges played since the last heartbeat.")
    position: Annotated[float, Field(ge=0, le=86_400)] | None = Field(
        None, description="Where the player is (resume from here next time)."
    )


class LearnerProgress(BaseModel):
    """One learner's row of the course progress table."""

    user_id: uuid.UUID
    name: str
    percent: float
    completed: int
    items: dict[str, ProgressOut] = Field(description="By item id.")


class ProgressTable(BaseModel):
    """Every learner's progress in a course (instructors and TAs)."""

    items: list[ItemOut]
    learners: list[LearnerProgress]
    next: str | None = None


class CopyIn(Strict):
    """The new course's code and title."""

    code: Code
    title: Title


class CopyOut(BaseModel):
    """The copy, and how many module items were not copied (live sessions, videos, labs)."""

    course_id: uuid.UUID
    skipped: int
