"""Matching (distractors, many-to-one) and ordering (three partial-credit rules)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lms.assessments.errors import InvalidResponse
from lms.assessments.questions.matching import Matching, MatchingResponse, grade_matching
from lms.assessments.questions.ordering import (
    Ordering,
    OrderingResponse,
    grade_ordering,
    longest_increasing,
)
from lms.assessments.questions.registry import accept, as_shown, receive, student_view

CAPITALS = {
    "prompt": "Match each country with its capital.",
    "points": 3,
    "pairs": [
        {"id": "fr", "prompt": "France", "answer": "paris", "feedback": "Paris!"},
        {"id": "it", "prompt": "Italy", "answer": "rome"},
        {"id": "va", "prompt": "Vatican City", "answer": "rome"},
    ],
    "options": [
        {"id": "paris", "text": "Paris"},
        {"id": "rome", "text": "Rome"},
        {"id": "lyon", "text": "Lyon"},
    ],
}


def test_matching_per_pair_and_all_or_nothing() -> None:
    question = Matching.model_validate(CAPITALS)
    right = {"fr": "paris", "it": "rome", "va": "rome"}
    assert grade_matching(question, MatchingResponse(matches=right)).score == 3
    partly = grade_matching(question, MatchingResponse(matches={"fr": "lyon", "it": "rome"}))
    assert partly.score == 1
    assert [p.feedback for p in partly.parts] == ["Paris!", None, None]
    strict = Matching.model_validate({**CAPITALS, "scoring": "all_or_nothing"})
    assert grade_matching(strict, MatchingResponse(matches={"fr": "paris"})).score == 0
    assert grade_matching(strict, MatchingResponse(matches=right)).score == 3


def test_matching_key_must_name_options() -> None:
    pairs = [{"id": "fr", "prompt": "France", "answer": "marseille"}]
    with pytest.raises(ValidationError):
        Matching.model_validate({**CAPITALS, "pairs": pairs})


def test_matching_through_view_tokens() -> None:
    question = Matching.model_validate(CAPITALS)
    view = student_view(question, "s").model_dump()
    prompt = {item["text"]: item["token"] for item in view["prompts"]}
    option = {item["text"]: item["token"] for item in view["options"]}
    assert set(option) == {"Paris", "Rome", "Lyon"}
    sent = {"matches": {prompt["France"]: option["Paris"], prompt["Italy"]: option["Lyon"]}}
    stored = receive(question, "s", sent)
    assert stored == MatchingResponse(matches={"fr": "paris", "it": "lyon"})
    assert as_shown(question, "s", stored).model_dump() == sent
    with pytest.raises(InvalidResponse):
        receive(question, "s", {"matches": {prompt["France"]: "o9"}})
    with pytest.raises(InvalidResponse):
        accept(question, {"matches": {"xx": "paris"}})


STEPS = {
    "prompt": "Order the steps.",
    "points": 6,
    "items": [{"id": f"s{i}", "text": f"step {i}"} for i in range(1, 5)],
}


@pytest.mark.parametrize(
    ("scoring", "order", "score"),
    [
        ("all_or_nothing", ["s1", "s2", "s3", "s4"], 6),
        ("all_or_nothing", ["s2", "s1", "s3", "s4"], 0),
        ("longest_subsequence", ["s1", "s2", "s3", "s4"], 6),
        ("longest_subsequence", ["s4", "s3", "s2", "s1"], 0),
        ("longest_subsequence", ["s2", "s1", "s3", "s4"], 4),  # 3 in order: (3-1)/(4-1)
        ("longest_subsequence", ["s4", "s1", "s2", "s3"], 4),
        ("pairwise", ["s1", "s2", "s3", "s4"], 6),
        ("pairwise", ["s4", "s3", "s2", "s1"], 0),
        ("pairwise", ["s2", "s1", "s3", "s4"], 5),  # 5 of 6 pairs
        ("pairwise", ["s4", "s1", "s2", "s3"], 3),  # 3 of 6 pairs
        ("pairwise", [], 0),
        ("longest_subsequence", [], 0),
        ("longest_subsequence", ["s1", "s1", "zz", "s2"], 2),  # repeats and strays dropped
    ],
)
def test_ordering_scoring(scoring: str, order: list[str], score: float) -> None:
    question = Ordering.model_validate({**STEPS, "scoring": scoring})
    assert grade_ordering(question, OrderingResponse(order=order)).score == score


def test_ordering_answers_must_list_every_item_once() -> None:
    question = Ordering.model_validate(STEPS)
    for order in (["s1", "s2", "s3"], ["s1", "s1", "s2", "s3"], ["s1", "s2", "s3", "s9"]):
        with pytest.raises(InvalidResponse):
            accept(question, {"order": order})
    accept(question, {"order": ["s4", "s3", "s2", "s1"]})


@given(seed=st.text(max_size=20))
@settings(max_examples=100, deadline=None)
def test_ordering_view_is_never_the_answer(seed: str) -> None:
    question = Ordering.model_validate(STEPS)
    shown = [item["text"] for item in student_view(question, seed).model_dump()["items"]]
    assert sorted(shown) == ["step 1", "step 2", "step 3", "step 4"]
    assert shown != ["step 1", "step 2", "step 3", "step 4"]


@given(st.lists(st.integers(0, 20), max_size=30))
def test_longest_increasing_matches_brute_force(values: list[int]) -> None:
    best = [1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i]:
                best[i] = max(best[i], best[j] + 1)
    assert longest_increasing(values) == max(best, default=0)
