"""What every question type shares: size caps, the strict model bases and common fields.

Every string and list an author or a student sends is capped here, once, so no question type
can forget a cap; definitions refuse unknown fields (``extra="forbid"``) and responses are
strict (no coercion of ``"true"`` into a bool or ``1`` into a string).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_PROMPT = 20_000
"""Characters of a prompt (Markdown) or a template."""
MAX_TEXT = 2_000
"""Characters of a choice, an option, a feedback line or an accepted answer."""
MAX_ANSWER = 500
"""Characters of a short answer, a numeric answer or a math expression a student types."""
MAX_CHOICES = 50
"""Choices of a choice question, items of an ordering, options or prompts of a matching."""
MAX_ALTERNATIVES = 50
"""Accepted alternatives or patterns of one short-answer rule."""
MAX_BLANKS = 50
"""Blanks of one fill-in-the-blanks question."""
MAX_POINTS = 1_000.0

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
"""An author's id of a choice, blank, pair or item (also a view token): short, plain."""
Prompt = Annotated[str, StringConstraints(max_length=MAX_PROMPT)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
NonEmptyText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]
Answer = Annotated[str, StringConstraints(max_length=MAX_ANSWER)]
Points = Annotated[float, Field(gt=0, le=MAX_POINTS, allow_inf_nan=False)]
Credit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
"""A fraction of a question's points, 0 to 1."""


class Definition(BaseModel):
    """Base of every question definition: what an author writes (never sent to a student)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: Prompt
    points: Points = 1.0
    explanation: Text | None = None
    """Shown with the correct answer once the release policy allows (key material)."""


class Response(BaseModel):
    """Base of every response model: what a student sends, strict and capped."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class View(BaseModel):
    """Base of every student view: what the browser gets before results are released."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str
    points: float


class Choice(BaseModel):
    """One labelled item of a list: a choice, an option, an ordering item."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    text: NonEmptyText


class ViewItem(BaseModel):
    """An item as a student sees it: an opaque per-attempt token and its text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: Id
    text: str


def duplicates(values: list[str]) -> list[str]:
    """The values that appear more than once, in first-seen order."""
    seen: set[str] = set()
    twice: list[str] = []
    for value in values:
        if value in seen and value not in twice:
            twice.append(value)
        seen.add(value)
    return twice
