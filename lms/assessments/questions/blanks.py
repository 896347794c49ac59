"""Fill in the blanks: a text with several blanks, each with its own rule (a short-answer
rule, a numeric rule, or a dropdown of options).

The author marks blanks in the template as ``[[id]]``; the student sees the text cut into
segments, each blank under an opaque token (``b1``, ``b2``... in reading order), a dropdown's
options shuffled under their own tokens. Credit is the weighted share of right blanks, or
all-or-nothing.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lms.assessments.errors import InvalidResponse
from lms.assessments.questions.base import (
    MAX_BLANKS,
    MAX_CHOICES,
    Answer,
    Choice,
    Definition,
    Id,
    Prompt,
    Response,
    View,
    ViewItem,
    duplicates,
)
from lms.assessments.questions.kinds import QuestionType
from lms.assessments.questions.numeric import NumericRule, check_number, view_unit
from lms.assessments.questions.outcome import Outcome
from lms.assessments.questions.results import (
    GradeResult,
    PartResult,
    Status,
    result,
    weighted_credit,
)
from lms.assessments.questions.shuffle import (
    Presentation,
    Translator,
    arrange,
    permutation,
    tokens,
)
from lms.assessments.questions.text import TextRule, check_text, deadline

BLANKS = "blanks"
MARKER = re.compile(r"\[\[([A-Za-z0-9_-]{1,64})\]\]")


class TextBlank(TextRule):
    """A blank answered by a short text."""

    kind: Literal["text"] = "text"


class NumericBlank(NumericRule):
    """A blank answered by a number."""

    kind: Literal["numeric"] = "numeric"


class DropdownBlank(BaseModel):
    """A blank answered by picking one option."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["dropdown"] = "dropdown"
    options: Annotated[list[Choice], Field(min_length=2, max_length=MAX_CHOICES)]
    answer: Id
    shuffle: bool = True

    @model_validator(mode="after")
    def _answer_is_an_option(self) -> DropdownBlank:
        ids = [option.id for option in self.options]
        if duplicates(ids):
            raise ValueError("option ids must be unique")
        if self.answer not in ids:
            raise ValueError(f"the answer {self.answer!r} is not an option")
        return self


Rule = Annotated[TextBlank | NumericBlank | DropdownBlank, Field(discriminator="kind")]


class Blank(BaseModel):
    """One blank: its id (as marked in the template), its weight and its rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    weight: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] = 1.0
    rule: Rule


class FillBlanks(Definition):
    """A text with blanks (see the module docstring)."""

    type: Literal["fill_blanks"] = "fill_blanks"
    template: Prompt
    blanks: Annotated[list[Blank], Field(min_length=1, max_length=MAX_BLANKS)]
    scoring: Literal["per_blank", "all_or_nothing"] = "per_blank"

    @model_validator(mode="after")
    def _markers_match_blanks(self) -> FillBlanks:
        marked = MARKER.findall(self.template)
        if duplicates(marked):
            raise ValueError(f"blanks marked twice in the template: {duplicates(marked)}")
        ids = [blank.id for blank in self.blanks]
        if duplicates(ids):
            raise ValueError("blank ids must be unique")
        if sorted(marked) != sorted(ids):
            raise ValueError("the template must mark each blank exactly once as [[id]]")
        return self

    def blank(self, blank_id: str) -> Blank | None:
        """The blank ``blank_id``, or None."""
        return next((blank for blank in self.blanks if blank.id == blank_id), None)


class TextSegment(BaseModel):
    """Text between blanks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str


class BlankSlot(BaseModel):
    """A blank as the student sees it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    blank: Id
    kind: Literal["text", "numeric", "dropdown"]
    options: list[ViewItem] | None = None
    unit: str | None = None


class FillBlanksView(View):
    """A fill-in-the-blanks question as the student sees it."""

    type: Literal["fill_blanks"] = "fill_blanks"
    segments: list[TextSegment | BlankSlot]


class FillBlanksResponse(Response):
    """What the student put in each blank (blank token -> text typed or option token)."""

    answers: Annotated[dict[Id, Answer], Field(max_length=MAX_BLANKS)] = {}


def _options_group(blank_id: str) -> str:
    return f"options:{blank_id}"


def _present(definition: FillBlanks, seed: str) -> tuple[View, Presentation]:
    blank_tokens = tokens("b", MARKER.findall(definition.template))
    token_of = {blank_id: token for token, blank_id in blank_tokens.items()}
    groups: dict[str, dict[str, str]] = {BLANKS: blank_tokens}
    segments: list[TextSegment | BlankSlot] = []
    cursor = 0
    for match in MARKER.finditer(definition.template):
        if match.start() > cursor:
            segments.append(TextSegment(text=definition.template[cursor : match.start()]))
        cursor = match.end()
        blank = definition.blank(match[1])
        assert blank is not None  # the validator matched markers and blanks
        token = token_of[blank.id]
        rule = blank.rule
        if isinstance(rule, DropdownBlank):
            shown = rule.options
            if rule.shuffle:
                shown = arrange(rule.options, permutation(seed, blank.id, len(rule.options)))
            option_tokens = tokens("o", [option.id for option in shown])
            groups[_options_group(blank.id)] = option_tokens
            items = [
                ViewItem(token=t, text=option.text)
                for t, option in zip(option_tokens, shown, strict=True)
            ]
            segments.append(BlankSlot(blank=token, kind="dropdown", options=items))
        elif isinstance(rule, NumericBlank):
            segments.append(BlankSlot(blank=token, kind="numeric", unit=view_unit(rule)))
        else:
            segments.append(BlankSlot(blank=token, kind="text"))
    if cursor < len(definition.template):
        segments.append(TextSegment(text=definition.template[cursor:]))
    view = FillBlanksView(prompt=definition.prompt, points=definition.points, segments=segments)
    return view, Presentation(groups)


def _translate(response: FillBlanksResponse, translate: Translator) -> FillBlanksResponse:
    """Blank tokens to ids, and a dropdown's option tokens to option ids (or back); typed
    answers are kept as they are."""
    answers: dict[str, str] = {}
    for blank, answer in response.answers.items():
        target = translate(BLANKS, blank)
        if target is None:
            continue
        blank_id = target if translate.to_canonical else blank
        option = translate(_options_group(blank_id), answer)
        answers[target] = answer if option is None else option
    return FillBlanksResponse(answers=answers)


def _check(definition: FillBlanks, response: FillBlanksResponse) -> None:
    for blank_id, answer in response.answers.items():
        blank = definition.blank(blank_id)
        if blank is None:
            raise InvalidResponse(f"no blank {blank_id!r} in this question")
        if isinstance(blank.rule, DropdownBlank) and answer not in {
            option.id for option in blank.rule.options
        }:
            raise InvalidResponse(f"no option {answer!r} in blank {blank_id!r}")


def _check_blank(blank: Blank, answer: str, until: float) -> Outcome:
    rule = blank.rule
    if isinstance(rule, DropdownBlank):
        if not answer:
            return Outcome(0.0, "No answer.")
        return Outcome(1.0 if answer == rule.answer else 0.0)
    if isinstance(rule, NumericBlank):
        return check_number(rule, answer)
    return check_text(rule, answer, until=until)


def grade_fill_blanks(definition: FillBlanks, response: FillBlanksResponse) -> GradeResult:
    """One part per blank; weighted credit, or all-or-nothing. A blank a guard could not
    check makes the whole result unchecked (the others are still scored)."""
    until = deadline()
    parts = []
    weighted = []
    unchecked = False
    for blank in definition.blanks:
        outcome = _check_blank(blank, response.answers.get(blank.id, ""), until)
        unchecked = unchecked or not outcome.checked
        weighted.append((blank.weight, outcome.credit))
        parts.append(
            PartResult(
                part=blank.id,
                credit=outcome.credit,
                correct=outcome.correct,
                feedback=outcome.feedback,
            )
        )
    credit = weighted_credit(weighted)
    if definition.scoring == "all_or_nothing":
        credit = 1.0 if all(part.correct for part in parts) else 0.0
    status: Status = "unchecked" if unchecked else "graded"
    return result(definition.points, credit, parts, status=status)


FILL_BLANKS = QuestionType(
    name="fill_blanks",
    definition=FillBlanks,
    response=FillBlanksResponse,
    present=_present,
    grade=grade_fill_blanks,
    translate=_translate,
    check=_check,
)
