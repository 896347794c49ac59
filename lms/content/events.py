"""The domain events of learning content (jobs/events.py), for notifications, webhooks and
analytics: a page published, an item viewed for the first time, a video watched past a
quarter mark, an item completed. Heartbeats themselves are not events."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from jobs.events import EventType


class PagePublished(BaseModel):
    """A page's current text became the version students read."""

    page_id: uuid.UUID = Field(description="The page (GET /api/v1/pages/{id}).")
    course_id: uuid.UUID = Field(description="Its course.")
    published_by: uuid.UUID = Field(description="Who published it.")
    published_at: datetime = Field(description="When (UTC).")


class ItemProgressed(BaseModel):
    """A learner made progress on a module item."""

    item_id: uuid.UUID = Field(description="The module item.")
    course_id: uuid.UUID = Field(description="Its course.")
    user_id: uuid.UUID = Field(description="The learner.")
    kind: str = Field(description="The item's kind: page, file, video, link, live_session.")
    watched_share: float = Field(description="Share of a video played so far, 0 to 1.")
    at: datetime = Field(description="When (UTC).")


PAGE_PUBLISHED = EventType(
    "content.page_published",
    PagePublished,
    aggregate="page",
    summary="A course page was published; students now read this version.",
)
ITEM_VIEWED = EventType(
    "content.item_viewed",
    ItemProgressed,
    aggregate="learner",
    summary="A learner opened a module item for the first time.",
)
VIDEO_WATCHED = EventType(
    "content.video_watched",
    ItemProgressed,
    aggregate="learner",
    summary="A learner's played share of a video passed 25, 50, 75 or 100%.",
)
ITEM_COMPLETED = EventType(
    "content.item_completed",
    ItemProgressed,
    aggregate="learner",
    summary="A learner met a module item's completion requirement.",
)
EVENT_TYPES = (PAGE_PUBLISHED, ITEM_VIEWED, VIDEO_WATCHED, ITEM_COMPLETED)
