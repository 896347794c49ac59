"""Request and response bodies of the assignments API.

Grader-facing bodies name a learner by an opaque per-assignment ``key``; while an
assignment is anonymous they carry no user id, name or email at all.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints

from lms.courses.schemas import Title

SubmissionType = Literal["text", "file"]
Points = Annotated[Decimal, Field(ge=0, le=100_000, max_digits=8, decimal_places=2)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
Extension = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{1,10}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
RubricId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
LearnerKey = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
Score = Annotated[
    Decimal, PlainSerializer(lambda d: str(d.quantize(Decimal("0.01"))), return_type=str)
]
"""A score or points in a response: a string with exactly two decimal places."""
MAX_TEXT_CHARS = 200_000
MAX_FILES = 10


class Strict(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class LatePolicy(Strict):
    """Late deduction: ``per_day`` % of the points per day late (a started day counts),
    at most ``cap`` %, and never below ``floor`` % of the points."""

    per_day: Percent = Decimal(0)
    cap: Percent = Decimal(100)
    floor: Percent = Decimal(0)


class AssignmentIn(Strict):
    """A new assignment, or the fields of one to change (omitted fields stay)."""

    title: Title | None = None
    points: Points | None = None
    published: bool | None = None
    available_from: datetime | None = None
    due_at: datetime | None = None
    lock_at: datetime | None = None
    submission_types: Annotated[list[SubmissionType], Field(min_length=1, max_length=2)] | None = (
        None
    )
    allowed_extensions: Annotated[list[Extension], Field(max_length=30)] | None = None
    max_file_bytes: Annotated[int, Field(ge=1, le=2**40)] | None = None
    max_text_chars: Annotated[int, Field(ge=1, le=MAX_TEXT_CHARS)] | None = None
    late_policy: LatePolicy | None = None
    group_set_id: uuid.UUID | None = None
    rubric_id: uuid.UUID | None = None
    anonymous: bool | None = None


class AssignmentOut(BaseModel):
    """An assignment as the caller may see it; dates in UTC, ``my_due_at``/``my_lock_at``
    with the caller's extension applied."""

    id: uuid.UUID
    course_id: uuid.UUID
    title: str
    points: Score
    published: bool
    page_id: uuid.UUID | None = Field(description="The instructions page (editors open it).")
    instructions_html: str | None = Field(description="The published instructions.")
    available_from: datetime | None
    due_at: datetime | None
    lock_at: datetime | None
    my_due_at: datetime | None = None
    my_lock_at: datetime | None = None
    submission_types: list[SubmissionType]
    allowed_extensions: list[str]
    max_file_bytes: int
    max_text_chars: int
    late_policy: LatePolicy
    group_set_id: uuid.UUID | None
    rubric_id: uuid.UUID | None
    anonymous: bool
    names_revealed: bool


class AssignmentPage(BaseModel):
    """A page of a course's assignments."""

    items: list[AssignmentOut]
    next: str | None = None


class ExtensionIn(Strict):
    """A new due and/or lock date for one student."""

    user_id: uuid.UUID
    due_at: datetime | None = None
    lock_at: datetime | None = None


class ExtensionOut(BaseModel):
    """A student's extension."""

    user_id: uuid.UUID
    due_at: datetime | None
    lock_at: datetime | None


class GroupIn(Strict):
    """One group: a name and its students."""

    name: Title
    members: Annotated[list[uuid.UUID], Field(max_length=200)]


class GroupSetIn(Strict):
    """A division of the course's students into groups."""

    name: Title
    groups: Annotated[list[GroupIn], Field(min_length=1, max_length=500)]


class GroupOut(BaseModel):
    """A group and its members."""

    id: uuid.UUID
    name: str
    members: list[uuid.UUID]


class GroupSetOut(BaseModel):
    """A group set with its groups."""

    id: uuid.UUID
    course_id: uuid.UUID
    name: str
    groups: list[GroupOut]


MAX_CRITERIA = 50
MAX_LEVELS = 10


class LevelIn(Strict):
    """One level of a criterion; ``description`` says what earns it (optional)."""

    id: RubricId
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    points: Points
    description: Annotated[str, StringConstraints(max_length=1000)] = ""


class CriterionIn(Strict):
    """A criterion (``description`` is its name, ``long_description`` its explanation)
    and its levels in the order shown."""

    id: RubricId
    description: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    long_description: Annotated[str, StringConstraints(max_length=2000)] = ""
    levels: Annotated[list[LevelIn], Field(min_length=1, max_length=MAX_LEVELS)]


class RubricIn(Strict):
    """A rubric: criteria with levels and points."""

    title: Title
    criteria: Annotated[list[CriterionIn], Field(min_length=1, max_length=MAX_CRITERIA)]


class RubricOut(BaseModel):
    """A rubric of a course; ``points`` is the sum of each criterion's best level.
    ``graded``: for graders, how many grades were given on assignments that use it (an
    edit keeps their points: they change only when a grader grades again)."""

    id: uuid.UUID
    course_id: uuid.UUID
    title: str
    points: Score
    criteria: list[CriterionIn]
    graded: int | None = None


class RubricPage(BaseModel):
    """A page of a course's rubrics."""

    items: list[RubricOut]
    next: str | None = None


class SubmissionIn(Strict):
    """What a student hands in: Markdown text and/or their own uploaded files."""

    text: Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS)] | None = None
    file_ids: Annotated[
        list[Annotated[int, Field(ge=1, le=2**62)]], Field(max_length=MAX_FILES)
    ] = []


class SubmittedFile(BaseModel):
    """A file of a submission."""

    id: int
    name: str
    size: int
    content_type: str


class SubmissionOut(BaseModel):
    """One submitted version (no submitter identity: graders see it while anonymous)."""

    id: uuid.UUID
    assignment_id: uuid.UUID
    version: int
    text: str | None
    html: str | None
    files: list[SubmittedFile]
    submitted_at: datetime
    late: bool


class CommentIn(Strict):
    """A grader's comment: on a character range of a text submission, or general."""

    body: ShortText
    start: Annotated[int, Field(ge=0, le=MAX_TEXT_CHARS)] | None = None
    end: Annotated[int, Field(ge=0, le=MAX_TEXT_CHARS)] | None = None


class CommentOut(BaseModel):
    """A comment on a submission."""

    id: uuid.UUID
    submission_id: uuid.UUID
    start: int | None
    end: int | None
    body: str
    created_at: datetime


class GradeIn(Strict):
    """A grade: rubric levels (criterion id -> level id) and/or a score that overrides the
    rubric's sum; ``whole_group`` grades every member of a group alike."""

    rubric: Annotated[dict[RubricId, RubricId], Field(max_length=50)] = {}
    score: Points | None = None
    submission_id: uuid.UUID | None = Field(None, description="Default: the latest version.")
    whole_group: bool = True


class GradeOut(BaseModel):
    """A grade: the late deduction was computed once, at grading."""

    rubric: dict[str, str]
    raw_score: Score | None
    late_days: int
    late_deduction: Score
    score: Score | None
    submission_id: uuid.UUID | None
    graded_at: datetime
    posted: bool
    individual: bool = Field(
        False, description="A group member's own grade, not the group's (whole_group false)."
    )


GradingState = Literal["graded", "submitted", "missing", "not_due"]


class GradingEntry(BaseModel):
    """One learner in the grading view's list. ``user_id``/``name`` are null while the
    assignment is anonymous; ``label`` is then "Student N" (a stable shuffle)."""

    key: str
    label: str
    user_id: uuid.UUID | None
    name: str | None
    state: GradingState
    late: bool
    submitted_at: datetime | None
    versions: int
    score: Score | None


class GradingList(BaseModel):
    """The learners of an assignment for its graders."""

    anonymous: bool
    entries: list[GradingEntry]
    next: str | None = None


class GradingDetail(BaseModel):
    """One learner's submissions (newest first), the comments on them and their grade."""

    entry: GradingEntry
    submissions: list[SubmissionOut]
    comments: list[CommentOut]
    grade: GradeOut | None
    due_at: datetime | None


class MySubmissions(BaseModel):
    """A student's own submissions (newest first) and, once posted, grade and comments."""

    submissions: list[SubmissionOut]
    grade: GradeOut | None
    comments: list[CommentOut]
    rubric: RubricOut | None


class LinkOut(BaseModel):
    """A short-lived signed link to a submitted file's bytes."""

    url: str
    expires_at: datetime
    disposition: str
    content_type: str
