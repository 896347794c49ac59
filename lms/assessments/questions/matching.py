"""Matching: each prompt is matched to one option; options may outnumber the prompts
(distractors) and one option may answer several prompts.

The student sees the prompts (in the author's order unless shuffled) and the options
shuffled, each under an opaque token; which option answers which prompt stays here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lms.assessments.errors import InvalidResponse
from lms.assessments.questions.base import (
    MAX_CHOICES,
    Choice,
    Definition,
    Id,
    NonEmptyText,
    Response,
    Text,
    View,
    ViewItem,
    duplicates,
)
from lms.assessments.questions.kinds import QuestionType
from lms.assessments.questions.results import GradeResult, PartResult, result
from lms.assessments.questions.shuffle import (
    Presentation,
    Translator,
    arrange,
    permutation,
    tokens,
)

PROMPTS = "prompts"
OPTIONS = "options"


class Pair(BaseModel):
    """A prompt and the id of the option that answers it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Id
    prompt: NonEmptyText
    answer: Id
    feedback: Text | None = None
    """Shown when this prompt is matched wrongly, once results are released."""


class Matching(Definition):
    """Prompts to match with options; ``per_pair`` gives credit for each right match."""

    type: Literal["matching"] = "matching"
    pairs: Annotated[list[Pair], Field(min_length=1, max_length=MAX_CHOICES)]
    options: Annotated[list[Choice], Field(min_length=2, max_length=MAX_CHOICES)]
    scoring: Literal["per_pair", "all_or_nothing"] = "per_pair"
    shuffle_prompts: bool = False

    @model_validator(mode="after")
    def _key_names_options(self) -> Matching:
        if duplicates([pair.id for pair in self.pairs]):
            raise ValueError("pair ids must be unique")
        option_ids = [option.id for option in self.options]
        if duplicates(option_ids):
            raise ValueError("option ids must be unique")
        missing = [pair.answer for pair in self.pairs if pair.answer not in option_ids]
        if missing:
            raise ValueError(f"the answers {missing} are not options")
        return self


class MatchingView(View):
    """A matching question as the student sees it."""

    type: Literal["matching"] = "matching"
    prompts: list[ViewItem]
    options: list[ViewItem]


class MatchingResponse(Response):
    """Each prompt's chosen option (prompt token -> option token; ids once translated)."""

    matches: Annotated[dict[Id, Id], Field(max_length=MAX_CHOICES)] = {}


def _present(definition: Matching, seed: str) -> tuple[View, Presentation]:
    prompt_order = list(range(len(definition.pairs)))
    if definition.shuffle_prompts:
        prompt_order = permutation(seed, PROMPTS, len(definition.pairs))
    pairs = arrange(definition.pairs, prompt_order)
    options = arrange(definition.options, permutation(seed, OPTIONS, len(definition.options)))
    prompt_tokens = tokens("p", [pair.id for pair in pairs])
    option_tokens = tokens("o", [option.id for option in options])
    view = MatchingView(
        prompt=definition.prompt,
        points=definition.points,
        prompts=[
            ViewItem(token=token, text=pair.prompt)
            for token, pair in zip(prompt_tokens, pairs, strict=True)
        ],
        options=[
            ViewItem(token=token, text=option.text)
            for token, option in zip(option_tokens, options, strict=True)
        ],
    )
    return view, Presentation({PROMPTS: prompt_tokens, OPTIONS: option_tokens})


def _translate(response: MatchingResponse, translate: Translator) -> MatchingResponse:
    matches: dict[str, str] = {}
    for prompt, option in response.matches.items():
        prompt_id = translate(PROMPTS, prompt)
        option_id = translate(OPTIONS, option)
        if prompt_id is not None and option_id is not None:
            matches[prompt_id] = option_id
    return MatchingResponse(matches=matches)


def _check(definition: Matching, response: MatchingResponse) -> None:
    pairs = {pair.id for pair in definition.pairs}
    options = {option.id for option in definition.options}
    for prompt, option in response.matches.items():
        if prompt not in pairs or option not in options:
            raise InvalidResponse(f"no prompt {prompt!r} or option {option!r} in this question")


def grade_matching(definition: Matching, response: MatchingResponse) -> GradeResult:
    """One part per prompt; credit per right match, or all-or-nothing."""
    parts = []
    for pair in definition.pairs:
        right = response.matches.get(pair.id) == pair.answer
        parts.append(
            PartResult(
                part=pair.id,
                credit=1.0 if right else 0.0,
                correct=right,
                feedback=None if right else pair.feedback,
            )
        )
    right_count = sum(1 for part in parts if part.correct)
    if definition.scoring == "all_or_nothing":
        credit = 1.0 if right_count == len(parts) else 0.0
    else:
        credit = right_count / len(parts)
    return result(definition.points, credit, parts)


MATCHING = QuestionType(
    name="matching",
    definition=Matching,
    response=MatchingResponse,
    present=_present,
    grade=grade_matching,
    translate=_translate,
    check=_check,
)
