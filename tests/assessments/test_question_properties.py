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

IDS = st.sampled_from(
    ["SECRETa", "SECRETb", "SECRETc", "SECRETp1", "SECRETrome", "SECRET1", "SECRETd", "x"]
) | st.text(max_size=70)
TEXT = (
    st.text(max_size=520)
    | st.sampled_from(["SECRET answer", "SECRETx", "987654.321 km", "nan", "1e400", "  "])
    | st.from_regex(r"[+-]?\d{1,30}(\.\d{0,30})?([eE][+-]?\d{1,5})? ?(km|m|s|°C|µm|K)?")
)
MATH_TEXT = TEXT | st.from_regex(r"[-+*/^()xy0-9 ]{1,40}", fullmatch=True)


def _optional(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=fields)


FILE = st.fixed_dictionaries(
    {
        "file_id": st.text(min_size=1, max_size=70),
        "content_type": st.sampled_from(["application/pdf", "image/png", "text/x"]),
        "size": st.integers(-1, 1 << 40),
    }
)

RESPONSES: dict[str, st.SearchStrategy[Any]] = {
    "single_choice": _optional(choice=IDS | st.none()),
    "multiple_choice": _optional(choices=st.lists(IDS, max_size=55)),
    "true_false": _optional(answer=st.booleans() | st.none()),
    "numeric": _optional(answer=TEXT),
    "short_answer": _optional(answer=TEXT),
    "fill_blanks": _optional(answers=st.dictionaries(IDS, TEXT | IDS, max_size=55)),
    "matching": _optional(matches=st.dictionaries(IDS, IDS, max_size=55)),
    "ordering": _optional(order=st.lists(IDS, max_size=55)),
    "math": _optional(expression=MATH_TEXT),
    "essay": _optional(text=st.text(max_size=3000)),
    "file_upload": _optional(files=st.lists(FILE, max_size=12)),
    "python_code": _optional(code=st.text(max_size=200)),
}


def test_every_type_has_a_response_strategy() -> None:
    assert set(RESPONSES) == set(TYPES)


@pytest.mark.parametrize("kind", sorted(RAW))
@given(data=st.data())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
