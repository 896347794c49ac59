"""Request and response bodies of the gradebook API. Scores, points and percentages travel
as decimal strings ("8.50"), so no float ever rounds them."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from lms.courses.schemas import Title


def _places(places: int) -> AfterValidator:
    """Cut a number to the places its column keeps (``Numeric(9, 2)``, ``Numeric(7, 4)``),
    so what is answered is what is stored: 2.2e-308 is 0.0000, not a float's exponent."""
    step = Decimal(1).scaleb(-places)
    return AfterValidator(lambda value: value.quantize(step, rounding=ROUND_DOWN))


Points = Annotated[Decimal, Field(ge=Decimal("-9999999.99"), le=Decimal("9999999.99")), _places(2)]
Possible = Annotated[Decimal, Field(ge=0, le=Decimal("9999999.99")), _places(2)]
Percent = Annotated[Decimal, Field(ge=0, le=Decimal("999.9999")), _places(4)]
Weight = Annotated[Decimal, Field(ge=0, le=Decimal("999.9999")), _places(4)]
Drops = Annotated[int, Field(ge=0, le=100)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
Letter = Annotated[str, Field(min_length=1, max_length=10, pattern=r"^[^\x00-\x1f]+$")]


class Strict(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class SchemeEntry(Strict):
    """One letter and the lowest percentage that earns it."""

    name: Letter
    min: Percent


class SettingsIn(Strict):
    """The course's grading settings to change (omitted fields stay)."""

    weighted: bool | None = Field(None, description="Weight assignment groups (else points).")
    missing_policy: Literal["zero", "ungraded"] | None = Field(
        None, description="A missing cell without a score counts as 0, or as ungraded."
    )
    scheme: Annotated[list[SchemeEntry], Field(min_length=1, max_length=30)] | None = Field(
        None, description="Letter grades (a 0 bound required); [] is refused, null keeps."
    )
    default_scheme: bool | None = Field(None, description="true: back to the default scheme.")

    @field_validator("scheme")
    @classmethod
    def _scheme(cls, value: list[SchemeEntry] | None) -> list[SchemeEntry] | None:
        if value is None:
            return None
        if len({e.name for e in value}) != len(value):
            raise ValueError("each letter once")
        if not any(e.min == 0 for e in value):
            raise ValueError("one letter must start at 0")
        return value


class GroupIn(Strict):
    """A new assignment group, or the fields of one to change."""

    name: Title | None = None
    weight: Weight | None = Field(None, description="Percent of the final grade (weighted).")
    drop_lowest: Drops | None = None
    drop_highest: Drops | None = None
    extra_credit: bool | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None


class ColumnIn(Strict):
    """A new manual column, or the fields of a column to change."""

    title: Title | None = None
    points_possible: Possible | None = None
    due_at: datetime | None = None
    group_id: uuid.UUID | None = None
    position: Annotated[int, Field(ge=0, le=10_000)] | None = None
    never_drop: bool | None = None
    extra_credit: bool | None = None
    omit_from_final: bool | None = None
    post_policy: Literal["automatic", "manual"] | None = None


class GradeIn(Strict):
    """A cell's new score or flags (omitted fields stay); ``score: null`` clears it."""

    score: Points | None = None
    excused: bool | None = None
    missing: bool | None = None
    late: bool | None = None
    reason: Annotated[str, Field(max_length=500)] = ""
    expect: Annotated[dict[str, str | bool | None], Field(max_length=8)] | None = Field(
        None, description="The cell as read (its `state`): a different one now is a 409."
    )


class OverrideIn(Strict):
    """A learner's final-grade override (null removes it) and the required reason."""

    percent: Percent | None
    reason: Reason


class PostIn(Strict):
    """Post the column's grades, to every learner or to these."""

    user_ids: Annotated[list[uuid.UUID], Field(max_length=5000)] | None = None


class GroupOut(BaseModel):
    """An assignment group."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    position: int
    weight: Decimal
    drop_lowest: int
    drop_highest: int
    extra_credit: bool


class ColumnOut(BaseModel):
    """A column of the grid."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    group_id: uuid.UUID | None
    source: str
    source_id: uuid.UUID
    title: str
    points_possible: Decimal
    due_at: datetime | None
    position: int
    post_policy: str
    never_drop: bool
    extra_credit: bool
    omit_from_final: bool


class SettingsOut(BaseModel):
    """The course's grading settings."""

    weighted: bool
    missing_policy: str
    scheme: list[SchemeEntry]


class StructureOut(BaseModel):
    """The gradebook's settings, groups and columns."""

    settings: SettingsOut
    groups: list[GroupOut]
    columns: list[ColumnOut]


class CellOut(BaseModel):
    """A learner's cell: score, flags, whether it is posted, and its state (to send back
    as `expect`)."""

    score: Decimal | None
    excused: bool
    missing: bool
    late: bool
    late_deduction: Decimal | None
    posted: bool
    state: dict[str, Any]


class GroupGradeOut(BaseModel):
    """A group's part of a learner's grade."""

    group_id: Any
    score: Decimal
    possible: Decimal
    percent: Decimal | None
    dropped: list[Any]


class GradeOut(BaseModel):
    """A grade: points, possible, percent, letter and per group."""

    score: Decimal
    possible: Decimal
    percent: Decimal | None
    letter: str | None
    groups: list[GroupGradeOut]


class GradesOut(BaseModel):
    """A learner's current and final grade, the override and the grade shown."""

    current: GradeOut
    final: GradeOut
    override: Decimal | None
    percent: Decimal | None
    letter: str | None


class StudentOut(BaseModel):
    """A learner as the gradebook lists them."""

    id: uuid.UUID
    name: str
    email: str


class RowOut(BaseModel):
    """A learner's row of the grid: cells by column id and the computed grades."""

    student: StudentOut
    cells: dict[str, CellOut]
    grades: GradesOut


class GridOut(BaseModel):
    """A page of the grid (learners by name within the page) and the cursor."""

    structure: StructureOut
    rows: list[RowOut]
    next: str | None


class MyColumnOut(BaseModel):
    """A column on a learner's own page: their posted cell (null while hidden)."""

    column: ColumnOut
    cell: CellOut | None
    hidden: bool


class MyGradesOut(BaseModel):
    """A learner's own grades: what is posted, per group, and the computed grade."""

    groups: list[GroupOut]
    columns: list[MyColumnOut]
    grades: GradesOut
    weighted: bool


class ChangeOut(BaseModel):
    """One grade change: old and new value, actor, reason, time."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    column_id: uuid.UUID | None
    student_id: uuid.UUID | None
    kind: str
    old: dict[str, Any]
    new: dict[str, Any]
    actor_id: uuid.UUID | None
    reason: str
    at: datetime


class ChangePage(BaseModel):
    """A page of grade changes, newest first."""

    items: list[ChangeOut]
    next: str | None


class ImportChangeOut(BaseModel):
    """One cell an import would change."""

    row: int
    student_id: uuid.UUID
    student: str
    column_id: uuid.UUID
    column: str
    old: str
    new: str


class ImportErrorOut(BaseModel):
    """A problem on one row of an import (row 1 is the header)."""

    row: int
    message: str


class ImportPreviewOut(BaseModel):
    """What an import would change; apply it with `version` (no errors allowed)."""

    rows: int
    changes: list[ImportChangeOut]
    errors: list[ImportErrorOut]
    version: str


class ImportAppliedOut(BaseModel):
    """An applied import: how many cells changed."""

    applied: int
