"""Numeric answers: tolerance bounds inclusive, units converted, hostile numbers refused."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from pydantic import ValidationError

from lms.assessments.questions.numeric import (
    Numeric,
    NumericResponse,
    check_number,
    grade_numeric,
    parse_number,
)
from lms.assessments.questions.units import find_unit


def q(**fields: object) -> Numeric:
    return Numeric.model_validate({"prompt": "How far?", **fields})


def credit(question: Numeric, text: str) -> float:
    return check_number(question, text).credit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.14", 1.0),
        ("  3.14  ", 1.0),
        ("3.140", 1.0),
        ("+3.14", 1.0),
        ("3.141", 0.0),
        ("314e-2", 1.0),
        ("3.14 \u00d7 10^0", 1.0),
        ("３．１４", 1.0),  # full-width digits and point  # noqa: RUF001
        ("", 0.0),
        ("   ", 0.0),
        ("pi", 0.0),
        ("3,14", 0.0),
    ],
)
def test_exact(text: str, expected: float) -> None:
    assert credit(q(value="3.14"), text) == expected


def test_absolute_tolerance_bounds_are_inclusive() -> None:
    question = q(value="10", tolerance="0.1")
    assert credit(question, "10.1") == 1.0
    assert credit(question, "9.9") == 1.0
    assert credit(question, "10.1000000001") == 0.0
    assert credit(question, "9.8999999999") == 0.0


def test_relative_tolerance_bounds_are_inclusive() -> None:
    question = q(value="-200", tolerance="0.05", tolerance_mode="relative")
    assert credit(question, "-210") == 1.0
    assert credit(question, "-190") == 1.0
    assert credit(question, "-210.0001") == 0.0
    assert credit(question, "210") == 0.0


def test_decimal_values_are_exact() -> None:
    question = q(value=0.3, tolerance=0)  # a float in JSON is read as its shortest decimal
    assert question.value == Decimal("0.3")
    assert credit(question, "0.3") == 1.0
    assert credit(question, "0.30000000000000004") == 0.0


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "Infinity", "1e401", "1e-401"])
def test_non_finite_and_huge_numbers_never_match(text: str) -> None:
    assert parse_number(text) is None
    assert credit(q(value=0, tolerance="1e300"), text) == 0.0


def test_large_but_bounded_numbers_are_compared_exactly() -> None:
    question = q(value="6.02214076e23", tolerance="1e15")
    assert credit(question, "6.02214076e23") == 1.0
    assert credit(question, "602214076000000000000000") == 1.0
    assert credit(question, "6.0221408e23") == 0.0
    assert credit(q(value=0), "0." + "0" * 450) == 1.0  # many digits, small exponent


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e301", float("nan"), float("inf")])
def test_definitions_refuse_non_finite_values(value: object) -> None:
    with pytest.raises(ValidationError):
        q(value=value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5 km", 1.0),
        ("1500 m", 1.0),
        ("1500m", 1.0),
        ("150000 cm", 1.0),
        ("1500000 mm", 1.0),
        ("1.5 kilometres", 1.0),
        ("1.5 Kilometers", 1.0),
        ("1.5", 1.0),  # the unit is optional: read as km
        ("1.5 s", 0.0),  # another dimension
        ("1.5 parsecs", 0.0),
        ("1.5 Km", 0.0),  # symbols are case-sensitive
    ],
)
def test_units_convert_between_compatible_ones(text: str, expected: float) -> None:
    assert credit(q(value="1.5", unit="km"), text) == expected


def test_time_units_and_tolerance_in_the_answer_unit() -> None:
    question = q(value="2", unit="min", tolerance="0.5")
    assert credit(question, "120 s") == 1.0
    assert credit(question, "150 s") == 1.0  # 2.5 min: on the bound
    assert credit(question, "150001 ms") == 0.0
    assert credit(question, "90000 ms") == 1.0


def test_required_unit() -> None:
    question = q(value="9.81", unit="m/s", unit_mode="required", convert_units=True)
    outcome = check_number(question, "9.81")
    assert outcome.credit == 0.0 and outcome.feedback == "Give the unit."
    assert credit(question, "35.316 km/h") == 1.0


def test_unit_without_conversion_must_be_that_unit() -> None:
    question = q(value="3", unit="apples", convert_units=False, unit_mode="required")
    assert credit(question, "3 apples") == 1.0
    assert credit(question, "3 pears") == 0.0
    assert credit(question, "3") == 0.0


def test_unknown_unit_with_conversion_is_the_authors_error() -> None:
    with pytest.raises(ValidationError):
        q(value="3", unit="apples")


def test_temperatures_convert_with_offsets() -> None:
    question = q(value="100", unit="°C")
    assert credit(question, "212 °F") == 1.0
    assert credit(question, "373.15 K") == 1.0
    assert credit(question, "100 degC") == 1.0


def test_a_number_with_no_unit_expected_refuses_a_unit() -> None:
    outcome = check_number(q(value="4"), "4 m")
    assert outcome.credit == 0.0 and outcome.feedback


def test_micro_sign_and_greek_mu_are_the_same_unit() -> None:
    assert find_unit("\u00b5m") == find_unit("\u03bcm") == find_unit("um")
    assert parse_number("−2.5 m") == (Fraction(-5, 2), "m")  # noqa: RUF001


def test_grade_numeric_scores_points() -> None:
    question = q(value="1", points=5)
    assert grade_numeric(question, NumericResponse(answer="1")).score == 5
    assert grade_numeric(question, NumericResponse(answer="2")).score == 0
