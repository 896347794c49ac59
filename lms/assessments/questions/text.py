"""Short answers: normalised comparison with accepted alternatives, and patterns matched
under a time limit.

Both sides are normalised the same way: Unicode NFKC (full-width letters, ligatures and
the no-break space fold into plain ones), invisible format characters (zero-width spaces,
joiners) removed, surrounding whitespace stripped and inner runs collapsed to one space,
case folded unless the author asks otherwise, punctuation dropped when the author allows
(apostrophes vanish, other marks separate words).
Letters that only look alike (a Cyrillic "\u0430" for a Latin "a") stay different: NFKC does not
fold scripts, and a grader would not either.

Patterns run on the ``regex`` module with a timeout (``PATTERN_TIMEOUT``); a pattern that
backtracks catastrophically ends as an unchecked outcome for a person to decide, never as a
stuck worker. Patterns are compiled when the definition is validated, so a broken one is the
author's error, not the student's.
"""

from __future__ import annotations

import time
import unicodedata
from functools import lru_cache
from typing import Annotated, Literal

import regex
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from lms.assessments.questions.base import (
    MAX_ALTERNATIVES,
    Answer,
    Credit,
    Definition,
    NonEmptyText,
    Response,
    Text,
    View,
)
from lms.assessments.questions.kinds import QuestionType, unchecked, untranslated
from lms.assessments.questions.outcome import Outcome
from lms.assessments.questions.results import GradeResult, PartResult, Status, result
from lms.assessments.questions.shuffle import Presentation

PATTERN_TIMEOUT = 0.05
"""Seconds one pattern may spend on one answer."""
GRADE_BUDGET = 0.25
"""Seconds all the patterns of one graded response may spend together (a question of many
blanks with many patterns each must not add up to minutes)."""
MAX_PATTERNS = 10
"""Patterns of one rule."""
MAX_PATTERN = 300

_APOSTROPHES = frozenset("'\u2019\u02bc")
"""Dropped without a trace when punctuation is ignored ("don't" is "dont"); other marks
become a space ("St.Louis" is "St Louis")."""

UNCHECKED_PATTERN = "This answer could not be checked automatically; a grader will."


class Accepted(BaseModel):
    """An accepted answer and the credit it earns (less than 1 for a near miss)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: NonEmptyText
    credit: Credit = 1.0
    feedback: Text | None = None


class Pattern(BaseModel):
    """A regular expression the whole normalised answer must match."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: Annotated[str, StringConstraints(min_length=1, max_length=MAX_PATTERN)]
    credit: Credit = 1.0
    feedback: Text | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            regex.compile(value, regex.VERSION1)
        except (regex.error, RecursionError, OverflowError) as exc:
            raise ValueError(f"the pattern does not compile: {exc}") from None
        return value


class TextRule(BaseModel):
    """What makes a typed answer right (shared by short answers and text blanks)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accepted: Annotated[list[Accepted], Field(max_length=MAX_ALTERNATIVES)] = []
    patterns: Annotated[list[Pattern], Field(max_length=MAX_PATTERNS)] = []
    case_sensitive: bool = False
    ignore_punctuation: bool = False

    @model_validator(mode="after")
    def _something_accepted(self) -> TextRule:
        if not self.accepted and not self.patterns:
            raise ValueError("a short-answer rule needs an accepted answer or a pattern")
        return self


class ShortAnswer(Definition, TextRule):
    """A question answered by a short text."""

    type: Literal["short_answer"] = "short_answer"


class ShortAnswerView(View):
    """A short-answer question as the student sees it."""

    type: Literal["short_answer"] = "short_answer"


class ShortAnswerResponse(Response):
    """The answer as typed."""

    answer: Answer = ""


def normalise(text: str, *, case_sensitive: bool, ignore_punctuation: bool) -> str:
    """``text`` under the module's normalisation (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", text)
    kept = []
    for char in folded:
        category = unicodedata.category(char)
        if category == "Cf":
            continue
        if ignore_punctuation and category.startswith("P"):
            kept.append("" if char in _APOSTROPHES else " ")
            continue
        kept.append(char)
    collapsed = " ".join("".join(kept).split())
    return collapsed if case_sensitive else collapsed.casefold()


@lru_cache(maxsize=1024)
def _compiled(pattern: str, case_sensitive: bool) -> regex.Pattern[str]:
    flags = regex.VERSION1 | (0 if case_sensitive else regex.IGNORECASE | regex.FULLCASE)
    return regex.compile(pattern, flags)


def deadline() -> float:
    """The monotonic time by which one graded response's patterns must be done."""
    return time.monotonic() + GRADE_BUDGET


def pattern_matches(
    pattern: str, text: str, *, case_sensitive: bool, until: float | None = None
) -> bool | None:
    """Whether ``pattern`` matches the whole of ``text``; None when it ran out of time
    (``PATTERN_TIMEOUT``, or less when the monotonic deadline ``until`` is nearer)."""
    limit = PATTERN_TIMEOUT
    if until is not None:
        limit = min(limit, until - time.monotonic())
        if limit <= 0:
            return None
    try:
        compiled = _compiled(pattern, case_sensitive)
        return compiled.fullmatch(text, timeout=limit) is not None
    except TimeoutError:
        return None
    except (regex.error, RecursionError, MemoryError):
        return None


def check_text(rule: TextRule, text: str, *, until: float | None = None) -> Outcome:
    """The best credit ``text`` earns under ``rule`` (never raises).

    Accepted answers are compared first; patterns then only for more credit. A pattern that
    runs out of time makes the outcome unchecked unless something already gave full credit.
    ``until`` is the grade's monotonic deadline for patterns (``deadline()``).
    """
    options = {"case_sensitive": rule.case_sensitive, "ignore_punctuation": rule.ignore_punctuation}
    given = normalise(text, **options)
    if not given:
        return Outcome(0.0, "No answer.")
    best = Outcome(0.0)
    for accepted in rule.accepted:
        if accepted.credit > best.credit and normalise(accepted.text, **options) == given:
            best = Outcome(accepted.credit, accepted.feedback)
    timed_out = False
    for pattern in rule.patterns:
        if pattern.credit <= best.credit:
            continue
        matched = pattern_matches(
            pattern.pattern, given, case_sensitive=rule.case_sensitive, until=until
        )
        if matched is None:
            timed_out = True
        elif matched:
            best = Outcome(pattern.credit, pattern.feedback)
    if timed_out and best.credit < 1.0:
        return Outcome(best.credit, UNCHECKED_PATTERN, checked=False)
    return best


def grade_short_answer(definition: ShortAnswer, response: ShortAnswerResponse) -> GradeResult:
    """The best credit among the accepted answers and patterns."""
    outcome = check_text(definition, response.answer, until=deadline())
    part = PartResult(
        part="answer", credit=outcome.credit, correct=outcome.correct, feedback=outcome.feedback
    )
    status: Status = "graded" if outcome.checked else "unchecked"
    return result(definition.points, outcome.credit, [part], status=status)


def _present(definition: ShortAnswer, _seed: str) -> tuple[View, Presentation]:
    return ShortAnswerView(prompt=definition.prompt, points=definition.points), Presentation()


SHORT_ANSWER = QuestionType(
    name="short_answer",
    definition=ShortAnswer,
    response=ShortAnswerResponse,
    present=_present,
    grade=grade_short_answer,
    translate=untranslated,
    check=unchecked,
)
