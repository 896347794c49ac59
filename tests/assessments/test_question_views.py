"""The hard rule of issue 19: a student's view never holds the key or anything revealing it;
and views are shuffled per attempt, stably for a seed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.assessments.questions.registry import (
    TYPES,
    as_shown,
    parse_definition,
    present,
    receive,
    student_view,
)
from tests.assessments.samples import RAW, SECRET, SECRET_NUMBER, sample, samples

SEEDS = st.text(max_size=40)


def test_every_type_has_a_sample() -> None:
    assert set(RAW) == set(TYPES)


@pytest.mark.parametrize("kind", sorted(RAW))
@given(seed=SEEDS)
@settings(max_examples=25, deadline=None)
def test_no_view_holds_key_material(kind: str, seed: str) -> None:
    view = student_view(sample(kind), seed)
    dumped = json.dumps(view.model_dump(mode="json"), ensure_ascii=False)
    assert SECRET not in dumped and SECRET.lower() not in dumped.lower()
    assert "987654" not in dumped and SECRET_NUMBER not in dumped
    for word in ("answer", "correct", "feedback", "explanation", "accepted", "pattern"):
        assert f'"{word}' not in dumped, word


KEY_CHANGES: dict[str, list[dict[str, object]]] = {
    "single_choice": [{"answer": "SECRETa"}, {"answer": "SECRETc"}],
    "multiple_choice": [{"answers": ["SECRETb"]}, {"answers": ["SECRETa", "SECRETb"]}],
    "true_false": [{"answer": False}],
    "numeric": [{"value": "1"}, {"tolerance": "3"}],
    "short_answer": [{"accepted": [{"text": "other"}], "patterns": []}],
    "fill_blanks": [
        {
            "blanks": [
                {**b, "rule": {**b["rule"], "value": "2"}} if i == 0 else b
                for i, b in enumerate(RAW["fill_blanks"]["blanks"])
            ]
        },
        {
            "blanks": [
                {**b, "rule": {**b["rule"], "answer": "SECRETo3"}} if i == 2 else b
                for i, b in enumerate(RAW["fill_blanks"]["blanks"])
            ]
        },
    ],
    "matching": [
        {"pairs": [{**p, "answer": "SECRETlyon"} for p in RAW["matching"]["pairs"]]},
    ],
    "math": [{"answer": "x + y"}],
    "essay": [{"grading_notes": "other"}],
    "file_upload": [{"grading_notes": "other"}],
    "python_code": [
        {"tests": [RAW["python_code"]["tests"][0], {"id": "t9", "name": "n", "source": "1"}]},
    ],
}
"""Changes to the key alone. Ordering is absent: its key is the items' order, which the
view shows scrambled by the seed (the student cannot know the seed, so it tells nothing)."""


@pytest.mark.parametrize("kind", sorted(KEY_CHANGES))
@given(seed=SEEDS)
@settings(max_examples=25, deadline=None)
def test_a_view_does_not_depend_on_the_key(kind: str, seed: str) -> None:
    original = student_view(sample(kind), seed)
    for change in KEY_CHANGES[kind]:
        assert student_view(sample(kind, **change), seed) == original


@given(seed=SEEDS)
@settings(max_examples=50, deadline=None)
def test_views_are_stable_for_a_seed(seed: str) -> None:
    for definition in samples():
        assert student_view(definition, seed) == student_view(definition, seed)


def test_choices_are_shuffled_across_seeds() -> None:
    definition = parse_definition(
        {
            "type": "single_choice",
            "prompt": "Q",
            "choices": [{"id": f"c{i}", "text": f"choice {i}"} for i in range(6)],
            "answer": "c0",
        }
    )
    orders = set()
    for seed in range(30):
        view = student_view(definition, str(seed)).model_dump()
        orders.add(tuple(item["text"] for item in view["choices"]))
    assert len(orders) > 10


@given(seed=SEEDS, picks=st.lists(st.integers(0, 2), max_size=3, unique=True))
@settings(max_examples=50, deadline=None)
def test_tokens_round_trip(seed: str, picks: list[int]) -> None:
    definition = sample("multiple_choice")
    view, _ = present(definition, seed)
    shown_tokens = [item["token"] for item in view.model_dump()["choices"]]
    sent = {"choices": [shown_tokens[i] for i in picks]}
    stored = receive(definition, seed, sent)
    texts = {c.id: c.text for c in definition.choices}  # type: ignore[union-attr]
    view_texts = {item["token"]: item["text"] for item in view.model_dump()["choices"]}
    assert [texts[c] for c in stored.choices] == [  # type: ignore[attr-defined]
        view_texts[t] for t in sent["choices"]
    ]
    assert as_shown(definition, seed, stored).model_dump() == sent
