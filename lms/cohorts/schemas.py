"""Cohorts REST: request and response bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Zone = Annotated[str, Field(min_length=1, max_length=64, description="IANA time zone.")]
Offset = Annotated[int, Field(ge=0, le=3650)]
Capacity = Annotated[int, Field(ge=1, le=100_000)]
EarliestDate = date(2000, 1, 1)
LatestDate = date(2200, 12, 31)


class PacingIn(BaseModel):
    """A module released to the cohort ``offset_days`` after its start date."""

    model_config = ConfigDict(extra="forbid")
    module_id: uuid.UUID
    offset_days: Offset


def _dates_ok(start: date | None, end: date | None) -> None:
    for one in (start, end):
        if one is not None and not EarliestDate <= one <= LatestDate:
            raise ValueError("dates must lie between 2000-01-01 and 2200-12-31")
    if start is not None and end is not None and end < start:
        raise ValueError("end_date must not be before start_date")


class CohortCreate(BaseModel):
    """A new cohort of a course: dates are days in ``time_zone``."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    time_zone: Zone
    start_date: date
    end_date: date
    capacity: Capacity | None = None
    pacing: list[PacingIn] = Field(default_factory=list, max_length=500)
    facilitator_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    self_enrolment: bool = Field(True, description="Issue a join code learners can use.")

    @model_validator(mode="after")
    def _dates(self) -> CohortCreate:
        _dates_ok(self.start_date, self.end_date)
        return self


class CohortUpdate(BaseModel):
    """Change a cohort; omitted (or null) fields stay. ``pacing`` replaces the schedule."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    time_zone: Zone | None = None
    start_date: date | None = None
    end_date: date | None = None
    capacity: Capacity | None = None
    pacing: list[PacingIn] | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _dates(self) -> CohortUpdate:
        _dates_ok(self.start_date, self.end_date)
        return self


class ScheduleEntry(BaseModel):
    """When a module opens to the cohort's learners (UTC and the local date)."""

    module_id: uuid.UUID
    title: str
    offset_days: int
    opens_on: date
    opens_at: datetime


class PersonOut(BaseModel):
    """Someone in a cohort."""

    user_id: uuid.UUID
    name: str


class MembershipOut(BaseModel):
    """A learner's place in a cohort."""

    cohort_id: uuid.UUID
    course_id: uuid.UUID
    user_id: uuid.UUID
    name: str = ""
    email: str | None = None
    via: str
    joined_at: datetime


class CohortOut(BaseModel):
    """A cohort as its course's staff, facilitators and members see it."""

    id: uuid.UUID
    course_id: uuid.UUID
    name: str
    time_zone: str
    start_date: date
    end_date: date
    capacity: int | None
    members: int
    schedule: list[ScheduleEntry]
    facilitators: list[PersonOut]
    join_code: str | None = Field(None, description="Only its managers see the code.")
    can_manage: bool
    can_facilitate: bool
    my_membership: MembershipOut | None


class CohortPage(BaseModel):
    """Cohorts of a course; ``next`` is the cursor of the following page."""

    items: list[CohortOut]
    next: str | None


class MemberPage(BaseModel):
    """Members in joining order; ``next`` is the cursor of the following page."""

    items: list[MembershipOut]
    next: str | None


class JoinIn(BaseModel):
    """Join a cohort with its code."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64)


class MemberAdd(BaseModel):
    """Add a learner by id or e-mail (exactly one)."""

    model_config = ConfigDict(extra="forbid")
    user_id: uuid.UUID | None = None
    email: EmailStr | None = None


class InvitationIn(BaseModel):
    """Invite an address; the e-mail carries an accept link."""

    model_config = ConfigDict(extra="forbid")
    email: EmailStr


class InvitationOut(BaseModel):
    """An invitation sent (its token travels only in the e-mail)."""

    id: uuid.UUID
    cohort_id: uuid.UUID
    email: str
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None


class AcceptIn(BaseModel):
    """The token from an invitation's link."""

    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=100)


class TransferIn(BaseModel):
    """Move a member to another cohort of the same course."""

    model_config = ConfigDict(extra="forbid")
    user_id: uuid.UUID
    to_cohort_id: uuid.UUID
    reason: str = Field("", max_length=500)


class TransferOut(BaseModel):
    """One transfer: who, when, from, to and why."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    course_id: uuid.UUID
    user_id: uuid.UUID
    from_cohort_id: uuid.UUID
    to_cohort_id: uuid.UUID
    by_id: uuid.UUID | None
    reason: str
    at: datetime


class TransferPage(BaseModel):
    """Transfers into or out of a cohort, oldest first."""

    items: list[TransferOut]
    next: str | None


class ImportRowOut(BaseModel):
    """A learner the CSV file would add."""

    row: int
    user_id: uuid.UUID
    email: str
    name: str


class ImportErrorOut(BaseModel):
    """Why a row of the file cannot be applied."""

    row: int
    message: str


class ImportPreviewOut(BaseModel):
    """What applying the file would do; apply it with ``version``."""

    rows: int
    adds: list[ImportRowOut]
    unchanged: int
    errors: list[ImportErrorOut]
    version: str


class ImportAppliedOut(BaseModel):
    """How many learners the import added."""

    added: int


class SessionIn(BaseModel):
    """A live session of the cohort (a room its members and facilitators enter)."""

    model_config = ConfigDict(extra="forbid")
    title: Name
    starts_at: datetime
    duration_minutes: int = Field(ge=5, le=24 * 60)

    @model_validator(mode="after")
    def _aware(self) -> SessionIn:
        if self.starts_at.tzinfo is None:
            raise ValueError("starts_at needs an offset (UTC, e.g. 2030-01-01T18:00:00Z)")
        if not 2000 <= self.starts_at.year <= 2200:
            raise ValueError("starts_at must lie between 2000 and 2200")
        return self


class SessionOut(BaseModel):
    """One live session: its room and times (UTC)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    cohort_id: uuid.UUID
    room_id: uuid.UUID
    title: str
    starts_at: datetime
    ends_at: datetime


class SessionPage(BaseModel):
    """Live sessions in time order."""

    items: list[SessionOut]
    next: str | None


class AnnouncementIn(BaseModel):
    """An announcement to every member."""

    model_config = ConfigDict(extra="forbid")
    title: Name
    body: str = Field("", max_length=20_000)


class AnnouncementOut(BaseModel):
    """An announcement as members read it."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    cohort_id: uuid.UUID
    author_id: uuid.UUID | None
    title: str
    body: str
    created_at: datetime


class AnnouncementPage(BaseModel):
    """Announcements, newest first."""

    items: list[AnnouncementOut]
    next: str | None


SortKey = Literal["name", "progress", "expected", "attendance", "last_active", "behind"]


class LearnerRow(BaseModel):
    """One learner on the dashboard."""

    user_id: uuid.UUID
    name: str
    email: str
    percent: float = Field(description="Share of the course's required items completed, %.")
    expected_percent: float = Field(description="Share the pacing has released by now, %.")
    attended: int = Field(description="Cohort sessions attended.")
    sessions_held: int = Field(description="Cohort sessions started so far.")
    last_active: datetime
    behind: bool
    reasons: list[str]


class DashboardOut(BaseModel):
    """Every learner of the cohort with progress, attendance and whether they fall behind."""

    cohort_id: uuid.UUID
    inactive_days: int
    learners: list[LearnerRow]
    behind: int
