"""Properties over every type: any response the response model accepts grades without
raising, to a score within [0, points]."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lms.assessments.questions.registry import TYPES, grade
from tests.assessments.samples import RAW, sample

IDS = st.sampled_from(["SECRETa", "SECRETb", "SECRETc", "c1", "zz", "x"]) | st.text(max_size=70)
TEXT = (
    st.text(max_size=520)
    | st.sampled_from(["SECRET answer", "SECRETx", "987654.321 km", "nan", "1e400", "  "])
    | st.from_regex(r"[+-]?\d{1,30}(\.\d{0,30})?([eE][+-]?\d{1,5})? ?(km|m|s|°C|µm)?")
)

RESPONSES: dict[str, st.SearchStrategy[Any]] = {
    "single_choice": st.fixed_dictionaries({}, optional={"choice": IDS | st.none()}),
    "multiple_choice": st.fixed_dictionaries({}, optional={"choices": st.lists(IDS, max_size=55)}),
    "true_false": st.fixed_dictionaries({}, optional={"answer": st.booleans() | st.none()}),
    "numeric": st.fixed_dictionaries({}, optional={"answer": TEXT}),
    "short_answer": st.fixed_dictionaries({}, optional={"answer": TEXT}),
}


def test_every_type_has_a_response_strategy() -> None:
    assert set(RESPONSES) == set(TYPES)


@pytest.mark.parametrize("kind", sorted(RAW))
@given(data=st.data())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_grading_never_raises_and_stays_in_bounds(kind: str, data: st.DataObject) -> None:
    definition = sample(kind)
    raw = data.draw(RESPONSES[kind])
    try:
        response = TYPES[kind].response.model_validate(raw)
    except ValidationError:
        return
    graded = grade(definition, response)
    assert 0 <= graded.score <= graded.points == definition.points
    assert graded.needs_manual == (graded.status != "graded")
    for part in graded.parts:
        assert 0 <= part.credit <= 1
