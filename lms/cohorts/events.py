"""The domain events of cohorts (jobs/events.py), for notifications, webhooks and
analytics: a learner joined a cohort, was moved to another, an announcement was posted."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from jobs.events import EventType


class MemberJoined(BaseModel):
    """A learner joined a cohort."""

    cohort_id: uuid.UUID = Field(description="The cohort (GET /api/v1/cohorts/{id}).")
    course_id: uuid.UUID = Field(description="Its course.")
    user_id: uuid.UUID = Field(description="The learner.")
    via: str = Field(description="How: code, invitation, csv or staff.")
    at: datetime = Field(description="When (UTC).")


class MemberTransferred(BaseModel):
    """A learner moved from one cohort of a course to another."""

    course_id: uuid.UUID = Field(description="The course.")
    user_id: uuid.UUID = Field(description="The learner.")
    from_cohort_id: uuid.UUID = Field(description="The cohort they left.")
    to_cohort_id: uuid.UUID = Field(description="The cohort they joined.")
    by_id: uuid.UUID = Field(description="Who moved them.")
    reason: str = Field(description="Why, as given.")
    at: datetime = Field(description="When (UTC).")


class AnnouncementPosted(BaseModel):
    """A facilitator posted an announcement to a cohort."""

    announcement_id: int = Field(description="The announcement.")
    cohort_id: uuid.UUID = Field(description="Its cohort.")
    course_id: uuid.UUID = Field(description="Its course.")
    author_id: uuid.UUID = Field(description="Who posted it.")
    title: str = Field(description="Its title.")
    at: datetime = Field(description="When (UTC).")


MEMBER_JOINED = EventType(
    "cohorts.member_joined",
    MemberJoined,
    aggregate="cohort",
    summary="A learner joined a cohort (by code, invitation, CSV import or staff).",
)
MEMBER_TRANSFERRED = EventType(
    "cohorts.member_transferred",
    MemberTransferred,
    aggregate="learner",
    summary="A learner was moved to another cohort of the same course.",
)
ANNOUNCEMENT_POSTED = EventType(
    "cohorts.announcement_posted",
    AnnouncementPosted,
    aggregate="cohort",
    summary="A facilitator posted an announcement to a cohort; its members are notified.",
)
EVENT_TYPES = (MEMBER_JOINED, MEMBER_TRANSFERRED, ANNOUNCEMENT_POSTED)
