"""Math answers: the whitelist reader, symbolic equivalence in a worker, and guards that
end every check with a result (asserted on the result, not on elapsed time)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from lms.assessments.questions.math_answer import (
    MathAnswer,
    MathResponse,
    check_key,
    compare,
    grade_math_with,
)
from lms.assessments.questions.math_guard import MathGuard
from lms.assessments.questions.math_syntax import FUNCTIONS, MathSyntaxError, read


@pytest.fixture(scope="module")
def guard() -> Iterator[MathGuard]:
    checker = MathGuard(timeout=5.0)
    yield checker
    checker.close()


def q(answer: str, variables: list[str] | None = None, **extra: object) -> MathAnswer:
    return MathAnswer.model_validate(
        {"prompt": "Simplify.", "answer": answer, "variables": variables or ["x"], **extra}
    )


@pytest.mark.parametrize(
    ("key", "given", "kind"),
    [
        ("(x+1)^2", "x^2 + 2x + 1", "equivalent"),
        ("(x+1)^2", "(1+x)(x+1)", "equivalent"),
        ("(x+1)^2", "x^2 + 1", "different"),
        ("1", "sin(x)^2 + cos(x)^2", "equivalent"),
        ("x", "e^(ln(x))", "equivalent"),
        ("x/2", "0.5x", "equivalent"),
        ("2xy", "2*y*x", "equivalent"),
        ("sqrt(2)", "2^(1/2)", "equivalent"),
        ("x^3", "x^2", "different"),
        ("pi", "3.14159", "different"),
        ("x", "q", "invalid"),
        ("x", "__import__('os').system('true')", "invalid"),
        ("x", "x.__class__", "invalid"),
        ("x", "lambda: 1", "invalid"),
        ("x", "[x]", "invalid"),
        ("x", "'x'", "invalid"),
        ("x", "sin x", "invalid"),
        ("x", "x" * 400, "invalid"),
    ],
)
def test_equivalence(guard: MathGuard, key: str, given: str, kind: str) -> None:
    variables = ["x", "y"] if "y" in key else ["x"]
    assert compare(q(key, variables), given, guard).kind == kind


def test_the_exponent_bomb_is_unchecked_not_hung(guard: MathGuard) -> None:
    graded = grade_math_with(q("x^2"), MathResponse(expression="x**(10**10)"), guard)
    assert graded.status == "unchecked" and graded.needs_manual and graded.score == 0
    tower = grade_math_with(q("x^2"), MathResponse(expression="10^10^10^10"), guard)
    assert tower.status == "unchecked"


def test_a_check_past_its_deadline_is_unchecked() -> None:
    """Without the exponent limit the tower is evaluated: the worker is killed at the
    deadline and the answer is unchecked; the next check gets a fresh worker."""
    reckless = MathGuard(timeout=1.0, max_exponent=float("inf"))
    try:
        graded = grade_math_with(q("x"), MathResponse(expression="10^10^10"), reckless)
        assert graded.status == "unchecked" and graded.score == 0
        after = grade_math_with(q("x"), MathResponse(expression="x"), reckless)
        assert after.status == "graded" and after.score == 1
        again = grade_math_with(q("x"), MathResponse(expression="2x - x"), reckless)
        assert again.status == "graded" and again.score == 1
    finally:
        reckless.close()


def test_a_closed_guard_answers_unchecked() -> None:
    closed = MathGuard()
    closed.close()
    graded = grade_math_with(q("x"), MathResponse(expression="2x-x"), closed)
    assert graded.status == "unchecked"


def test_empty_and_unreadable_answers(guard: MathGuard) -> None:
    assert grade_math_with(q("x"), MathResponse(expression="  "), guard).score == 0
    bad = grade_math_with(q("x"), MathResponse(expression="x +"), guard)
    assert bad.score == 0 and bad.status == "graded" and bad.parts[0].feedback


@pytest.mark.parametrize(
    "fields",
    [
        {"answer": "z"},  # not a declared variable
        {"answer": "x +"},
        {"answer": "x", "variables": ["sin"]},
        {"answer": "x", "variables": ["x", "x"]},
        {"answer": "x", "variables": ["x1"]},
        {"answer": "x", "rel_tol": float("nan")},
    ],
)
def test_definitions_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        MathAnswer.model_validate({"prompt": "Q", **fields})


def test_check_key(guard: MathGuard) -> None:
    assert check_key(q("(x+1)^2"), guard) is None


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("2x+1", "2 * v0 + 1"),
        ("xy", "v0 * v1"),
        ("2(x+1)", "2 * ( v0 + 1 )"),
        ("x^2", "v0 ** 2"),
        ("ln(x)", "log ( v0 )"),
        ("\uff58\u2212\uff11", "v0 - 1"),  # full-width x, minus sign, full-width 1
    ],
)
def test_reader_rewrites_to_our_names(text: str, source: str) -> None:
    assert read(text, ["x", "y"]).source == source


@given(st.text(max_size=120))
@settings(max_examples=300, deadline=None)
def test_reader_never_lets_through_a_foreign_name(text: str) -> None:
    try:
        source = read(text, ["x", "y"]).source
    except MathSyntaxError:
        return
    for token in source.split():
        assert (
            token in {"+", "-", "*", "/", "**", "(", ")", ",", "v0", "v1", "E", "pi"}
            or token[0].isdigit()
            or token[0] == "."
            or token in FUNCTIONS.values()
        ), token


EXPRESSIONS = st.from_regex(r"[-+*/^()xy0-9. e]{1,30}", fullmatch=True) | st.sampled_from(
    ["x^x^x^x", "(x+1)^99", "9^9^9", "99^99", "exp(exp(exp(x)))", "sin(1/x)", "x^(1/3)"]
)


@given(EXPRESSIONS)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_every_check_ends_with_a_result(guard: MathGuard, text: str) -> None:
    graded = grade_math_with(q("x*y + 1", ["x", "y"]), MathResponse(expression=text), guard)
    assert graded.status in ("graded", "unchecked")
    assert 0 <= graded.score <= graded.points
