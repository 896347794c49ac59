"""Request and response bodies of the question-bank, quiz and attempt API.

Question definitions and answers travel as JSON objects the pure core
(``lms.assessments.questions``) validates; everything else is checked here. A student's
attempt body never holds key material unless the quiz's release policy allows it: the
fields that could carry it (``results``, ``key``) are filled in by the service only then.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from lms.assessments.questions.pools import Tag
from lms.assessments.questions.python_code import Code
from lms.courses.schemas import Title

Release = Literal["immediately", "after_due", "manual", "never"]
Keep = Literal["highest", "latest", "average"]
Tags = Annotated[list[Tag], Field(max_length=20)]
MAX_SLOTS = 200
MAX_ANSWERS_PER_SAVE = 200
Seq = Annotated[int, Field(ge=0, le=2**31 - 1)]


class Strict(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class BankIn(Strict):
    """A new bank, or its new title."""

    title: Title


class BankOut(BaseModel):
    """A question bank."""

    id: uuid.UUID
    course_id: uuid.UUID
    title: str
    questions: int = 0
    created_at: datetime


class BankPage(BaseModel):
    """A page of a course's banks."""

    items: list[BankOut]
    next: str | None = None


class QuestionIn(Strict):
    """A question: a title for the bank, tags, and the definition (its ``type`` picks the
    question type; see ``lms.assessments.questions``)."""

    title: Title
    tags: Tags = []
    definition: dict[str, Any]


class QuestionOut(BaseModel):
    """A question as its authors see it (with the key)."""

    id: uuid.UUID
    bank_id: uuid.UUID
    type: str
    title: str
    tags: list[str]
    version: int
    archived: bool
    definition: dict[str, Any]
    regraded_attempts: int | None = Field(
        None, description="On a change: how many submitted attempts were regraded."
    )


class QuestionPage(BaseModel):
    """A page of a bank's questions."""

    items: list[QuestionOut]
    next: str | None = None


class PreviewIn(Strict):
    """A definition to preview as a student would see it, and optionally an answer (in the
    preview's tokens) to grade."""

    definition: dict[str, Any]
    seed: Annotated[str, StringConstraints(max_length=64)] = "preview"
    response: dict[str, Any] | None = None


class PreviewOut(BaseModel):
    """The student view of a definition, and the grade of the answer given."""

    view: dict[str, Any]
    result: dict[str, Any] | None = None


class FixedSlot(Strict):
    """One given question."""

    question_id: uuid.UUID


class PoolSlot(Strict):
    """``count`` questions drawn at random from a bank, each carrying every one of ``tags``."""

    bank_id: uuid.UUID
    count: Annotated[int, Field(ge=1, le=500)] = 1
    tags: Tags = []


class QuizIn(Strict):
    """A new quiz, or the fields of one to change (omitted fields stay)."""

    title: Title | None = None
    instructions: Annotated[str, StringConstraints(max_length=20_000)] | None = None
    published: bool | None = None
    slots: Annotated[list[FixedSlot | PoolSlot], Field(max_length=MAX_SLOTS)] | None = None
    time_limit_seconds: Annotated[int, Field(ge=10, le=7 * 86_400)] | None = None
    max_attempts: Annotated[int, Field(ge=1, le=100)] | None = Field(
        None, description="Attempts allowed; null means unlimited (send it explicitly)."
    )
    keep: Keep | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    due_at: datetime | None = None
    shuffle_questions: bool | None = None
    results_release: Release | None = None
    answers_release: Release | None = None

    @model_validator(mode="after")
    def _window_in_order(self) -> QuizIn:
        opens, closes = self.available_from, self.available_until
        if opens and closes and closes <= opens:
            raise ValueError("available_until must come after available_from")
        return self


class QuizOut(BaseModel):
    """A quiz and its settings."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    course_id: uuid.UUID
    title: str
    instructions: str
    published: bool
    slots: list[dict[str, Any]]
    time_limit_seconds: int | None
    max_attempts: int | None
    keep: Keep
    available_from: datetime | None
    available_until: datetime | None
    due_at: datetime | None
    shuffle_questions: bool
    results_release: Release
    answers_release: Release
    released_at: datetime | None


class QuizPage(BaseModel):
    """A page of a course's quizzes."""

    items: list[QuizOut]
    next: str | None = None


class AccommodationIn(Strict):
    """Extra time and attempts for one learner."""

    extra_seconds: Annotated[int, Field(ge=0, le=7 * 86_400)] = 0
    extra_attempts: Annotated[int, Field(ge=0, le=100)] = 0


class AccommodationOut(AccommodationIn):
    """A learner's accommodation on a quiz."""

    user_id: uuid.UUID


class AccommodationPage(BaseModel):
    """A page of a quiz's accommodations."""

    items: list[AccommodationOut]
    next: str | None = None


class AnswersIn(Strict):
    """An autosave: answers by question id, as the view shows them (tokens). ``seq`` grows
    with every save the browser makes; a save older than the one that wrote an answer
    changes nothing (a repeated or reordered request is harmless)."""

    seq: Seq
    answers: Annotated[dict[uuid.UUID, dict[str, Any]], Field(max_length=MAX_ANSWERS_PER_SAVE)]


class SubmitIn(Strict):
    """Optionally, the last answers to save before submitting (as an autosave)."""

    seq: Seq | None = None
    answers: (
        Annotated[dict[uuid.UUID, dict[str, Any]], Field(max_length=MAX_ANSWERS_PER_SAVE)] | None
    ) = None


class SaveOut(BaseModel):
    """What an autosave did: the answers it wrote, those a newer save had already written."""

    saved: list[uuid.UUID]
    stale: list[uuid.UUID]
    deadline: datetime | None


class QuestionResult(BaseModel):
    """A question's score once results are released (no parts, no feedback)."""

    score: float | None
    points: float
    status: str | None


class AttemptQuestion(BaseModel):
    """A question of an attempt as its learner sees it."""

    id: uuid.UUID
    view: dict[str, Any]
    answer: dict[str, Any] | None = None
    seq: int = 0


class AttemptOut(BaseModel):
    """An attempt. ``results`` and ``key`` are present only when the quiz's release policy
    allows (or for the course's staff)."""

    id: uuid.UUID
    quiz_id: uuid.UUID
    user_id: uuid.UUID
    number: int
    status: Literal["active", "submitted"]
    started_at: datetime
    deadline: datetime | None
    submitted_at: datetime | None
    submitted_by: str | None
    questions: list[AttemptQuestion]
    points: float
    score: float | None = None
    pending: int | None = None
    results: dict[str, QuestionResult] | None = None
    key: dict[str, dict[str, Any]] | None = None


class AttemptSummary(BaseModel):
    """An attempt in a list."""

    id: uuid.UUID
    user_id: uuid.UUID
    number: int
    status: Literal["active", "submitted"]
    started_at: datetime
    submitted_at: datetime | None
    score: float | None = None
    points: float
    pending: int | None = None


class AttemptPage(BaseModel):
    """A page of attempts."""

    items: list[AttemptSummary]
    next: str | None = None


class MyQuizOut(BaseModel):
    """A quiz as a learner sees it before starting: settings, attempts, the kept score."""

    quiz: QuizOut
    attempts: list[AttemptSummary]
    attempts_left: int | None
    active_attempt: uuid.UUID | None
    score: float | None = None
    extra_seconds: int = 0


class GradeIn(Strict):
    """A grader's score for one answer, and a comment for the learner."""

    score: Annotated[float, Field(ge=0, le=1_000, allow_inf_nan=False)]
    comment: Annotated[str, StringConstraints(max_length=10_000)] | None = None


class RunIn(Strict):
    """Code to try against a code question's visible tests (a practice run)."""

    code: Code


class GradingItem(BaseModel):
    """An answer waiting for (or given) a grader's score."""

    attempt_id: uuid.UUID
    user_id: uuid.UUID
    question_id: uuid.UUID
    response: dict[str, Any] | None
    status: str | None
    score: float | None
    points: float
    comment: str | None


class GradingPage(BaseModel):
    """A page of answers to grade for one question."""

    question: QuestionOut
    items: list[GradingItem]
    next: str | None = None


class ItemStatistics(BaseModel):
    """One question's figures over the quiz's submitted attempts."""

    question_id: uuid.UUID
    title: str
    answered: int
    difficulty: float | None = Field(description="Mean share of the points earned (p-value).")
    discrimination: float | None = Field(
        description="Point-biserial correlation of the item's credit with the rest score."
    )


class QuizStatistics(BaseModel):
    """Score distribution, per-item difficulty and discrimination, average time."""

    attempts: int
    mean_percent: float | None
    distribution: list[int] = Field(description="Attempts per 10% band of the score, 0-100.")
    average_seconds: float | None
    items: list[ItemStatistics]
