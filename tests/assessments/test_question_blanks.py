"""Fill in the blanks: markers, per-blank rules, weights, tokens for blanks and options."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lms.assessments.errors import InvalidResponse
from lms.assessments.questions.blanks import (
    FillBlanks,
    FillBlanksResponse,
    grade_fill_blanks,
)
from lms.assessments.questions.registry import accept, as_shown, receive, student_view

RAW = {
    "prompt": "Complete.",
    "points": 4,
    "template": "The [[animal]] ran [[dist]] to the [[place]].",
    "blanks": [
        {"id": "animal", "rule": {"kind": "text", "accepted": [{"text": "fox"}]}},
        {"id": "dist", "weight": 2, "rule": {"kind": "numeric", "value": "2", "unit": "km"}},
        {
            "id": "place",
            "rule": {
                "kind": "dropdown",
                "options": [{"id": "den", "text": "den"}, {"id": "sea", "text": "sea"}],
                "answer": "den",
            },
        },
    ],
}


def question(**changes: object) -> FillBlanks:
    return FillBlanks.model_validate({**RAW, **changes})


def test_weighted_credit_per_blank() -> None:
    q = question()
    full = {"animal": " Fox ", "dist": "2000 m", "place": "den"}
    assert grade_fill_blanks(q, FillBlanksResponse(answers=full)).score == 4
    part = grade_fill_blanks(q, FillBlanksResponse(answers={"animal": "fox", "dist": "3 km"}))
    assert part.score == 1  # 1 of weight 4
    assert [p.correct for p in part.parts] == [True, False, False]
    only_number = grade_fill_blanks(q, FillBlanksResponse(answers={"dist": "2"}))
    assert only_number.score == 2


def test_all_or_nothing() -> None:
    q = question(scoring="all_or_nothing")
    assert grade_fill_blanks(q, FillBlanksResponse(answers={"animal": "fox"})).score == 0


@pytest.mark.parametrize(
    "template",
    [
        "The [[animal]] ran [[dist]].",  # a blank not marked
        "The [[animal]] [[animal]] ran [[dist]] to [[place]].",  # marked twice
        "The [[animal]] ran [[dist]] to the [[place]] [[extra]].",  # marked, not defined
    ],
)
def test_markers_must_match_blanks(template: str) -> None:
    with pytest.raises(ValidationError):
        question(template=template)


def test_dropdown_key_must_be_an_option() -> None:
    blanks = [
        *RAW["blanks"][:2],
        {**RAW["blanks"][2], "rule": {**RAW["blanks"][2]["rule"], "answer": "x"}},
    ]  # type: ignore[dict-item]
    with pytest.raises(ValidationError):
        question(blanks=blanks)


def test_view_segments_and_tokens_round_trip() -> None:
    q = question()
    view = student_view(q, "seed-7").model_dump()
    segments = view["segments"]
    assert segments[0] == {"text": "The "}
    assert [s.get("blank") for s in segments if "blank" in s] == ["b1", "b2", "b3"]
    assert segments[-1] == {"text": "."}
    dropdown = next(s for s in segments if s.get("kind") == "dropdown")
    den = next(o["token"] for o in dropdown["options"] if o["text"] == "den")
    sent = {"answers": {"b1": "fox", "b2": "2 km", "b3": den}}
    stored = receive(q, "seed-7", sent)
    assert stored == FillBlanksResponse(answers={"animal": "fox", "dist": "2 km", "place": "den"})
    assert as_shown(q, "seed-7", stored).model_dump() == sent
    assert grade_fill_blanks(q, stored).score == 4  # type: ignore[arg-type]


def test_unknown_blanks_and_options_are_refused() -> None:
    q = question()
    with pytest.raises(InvalidResponse):
        receive(q, "s", {"answers": {"b9": "fox"}})
    with pytest.raises(InvalidResponse):
        receive(q, "s", {"answers": {"b3": "o9"}})
    with pytest.raises(InvalidResponse):
        accept(q, {"answers": {"place": "lake"}})


def test_blank_ids_that_look_like_tokens_do_not_confuse_translation() -> None:
    raw = {
        "prompt": "Q",
        "template": "[[b2]] and [[x]]",
        "blanks": [
            {"id": "b2", "rule": {"kind": "text", "accepted": [{"text": "o1"}]}},
            {
                "id": "x",
                "rule": {
                    "kind": "dropdown",
                    "shuffle": False,
                    "options": [{"id": "p", "text": "P"}, {"id": "q", "text": "Q"}],
                    "answer": "q",
                },
            },
        ],
    }
    q = FillBlanks.model_validate(raw)
    stored = receive(q, "s", {"answers": {"b1": "o1", "b2": "o2"}})
    assert stored == FillBlanksResponse(answers={"b2": "o1", "x": "q"})
    assert grade_fill_blanks(q, stored).score == 1  # type: ignore[arg-type]


def test_a_slow_pattern_makes_the_result_unchecked() -> None:
    blanks = [
        {"id": "animal", "rule": {"kind": "text", "patterns": [{"pattern": "(a|aa)+"}]}},
        *RAW["blanks"][1:],  # type: ignore[misc]
    ]
    q = question(blanks=blanks)
    graded = grade_fill_blanks(
        q, FillBlanksResponse(answers={"animal": "a" * 60 + "!", "dist": "2 km"})
    )
    assert graded.status == "unchecked" and graded.needs_manual
    assert graded.score == 2 and graded.parts[0].correct is None
