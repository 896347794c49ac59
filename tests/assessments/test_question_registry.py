"""The registry: one entry per type, a discriminated union, typed errors a route can map."""

from __future__ import annotations

import json
import typing

import pytest

from lms.assessments.errors import InvalidQuestion, InvalidResponse, UnknownQuestionType
from lms.assessments.questions import registry
from lms.assessments.questions.registry import TYPES, accept, parse_definition
from lms.errors import InvalidInput
from tests.assessments.samples import RAW, sample

EXPECTED = {
    "single_choice",
    "multiple_choice",
    "true_false",
    "numeric",
    "short_answer",
    "fill_blanks",
    "matching",
    "ordering",
    "math",
    "essay",
    "file_upload",
    "python_code",
}


def test_one_entry_per_type_and_the_union_matches() -> None:
    assert set(TYPES) == EXPECTED
    union = typing.get_args(typing.get_args(registry.QuestionDefinition)[0])
    assert {kind.definition for kind in TYPES.values()} == set(union)
    for name, kind in TYPES.items():
        assert kind.name == name == kind.definition.model_fields["type"].default


@pytest.mark.parametrize("kind", sorted(RAW))
def test_definitions_round_trip_through_json(kind: str) -> None:
    definition = sample(kind)
    again = parse_definition(json.loads(definition.model_dump_json()))
    assert again == definition


def test_unknown_type_and_invalid_definitions_are_typed_errors() -> None:
    with pytest.raises(UnknownQuestionType):
        parse_definition({"type": "telepathy", "prompt": "?"})
    with pytest.raises(InvalidQuestion) as caught:
        parse_definition({"type": "single_choice", "prompt": "?", "choices": [], "answer": "a"})
    assert isinstance(caught.value, InvalidInput)
    json.dumps(caught.value.errors)  # a problem document can carry them
    with pytest.raises(InvalidQuestion):
        parse_definition("not a dict")


def test_malformed_responses_are_typed_errors() -> None:
    with pytest.raises(InvalidResponse) as caught:
        accept(sample("numeric"), {"answer": 3})
    assert isinstance(caught.value, InvalidInput)
    json.dumps(caught.value.errors)
    with pytest.raises(InvalidResponse):
        accept(sample("numeric"), ["3"])
