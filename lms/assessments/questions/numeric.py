"""Numeric answers: exact or within a tolerance (absolute or relative, bounds inclusive),
optionally with a unit converted between compatible units (1.5 km is 1500 m).

Values are compared as exact fractions: ``0.1`` typed is one tenth, not a float near it, so
an answer exactly on a tolerance bound counts. NaN and infinities are refused in a
definition and never match in a response; exponents are bounded so no answer can make the
arithmetic costly.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from lms.assessments.questions.base import Answer, Definition, Response, View
from lms.assessments.questions.kinds import QuestionType, unchecked, untranslated
from lms.assessments.questions.outcome import Outcome
from lms.assessments.questions.results import GradeResult, PartResult, result
from lms.assessments.questions.shuffle import Presentation
from lms.assessments.questions.units import Unit, find_unit, normalise_unit

MAX_EXPONENT = 400
"""Largest decimal exponent of a number we compare (1e400 is refused, not computed)."""

Number = Annotated[Decimal, Field(allow_inf_nan=False, ge=Decimal("-1e300"), le=Decimal("1e300"))]
UnitName = Annotated[str, StringConstraints(min_length=1, max_length=32)]

_NUMBER = re.compile(
    r"""\s*(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))
        (?:\s*(?:[eE](?P<e>[+-]?\d{1,6})|\s*[x\u00d7*\u00b7]\s*10\s*(?:\^|\*\*)\s*(?P<p>[+-]?\d{1,6})))?
        \s*(?P<unit>.*?)\s*""",
    re.VERBOSE | re.DOTALL,
)


class NumericRule(BaseModel):
    """What makes a number right (shared by numeric questions and numeric blanks).

    ``tolerance`` is in the answer's unit when ``tolerance_mode`` is absolute, a fraction
    of the answer (0.01 is 1 %) when relative. ``unit_mode`` says whether a student must
    write the unit; with ``convert_units`` any unit of the same dimension is accepted.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Number
    tolerance: Annotated[Decimal, Field(ge=0, le=Decimal("1e300"), allow_inf_nan=False)] = Decimal(
        0
    )
    tolerance_mode: Literal["absolute", "relative"] = "absolute"
    unit: UnitName | None = None
    unit_mode: Literal["required", "optional"] = "optional"
    convert_units: bool = True
    show_unit: bool = False
    """Show the unit beside the answer box (otherwise the prompt says what is asked)."""

    @model_validator(mode="after")
    def _unit_known_when_converting(self) -> NumericRule:
        if self.unit is not None and self.convert_units and find_unit(self.unit) is None:
            raise ValueError(
                f"unknown unit {self.unit!r}: use a known unit or set convert_units to false"
            )
        return self


class Numeric(Definition, NumericRule):
    """A question answered by one number."""

    type: Literal["numeric"] = "numeric"


class NumericView(View):
    """A numeric question as the student sees it."""

    type: Literal["numeric"] = "numeric"
    unit: str | None = None


class NumericResponse(Response):
    """The number as typed, with its unit if any (``"1.5 km"``, ``"2.5e3"``)."""

    answer: Answer = ""


def parse_number(text: str) -> tuple[Fraction, str] | None:
    """``(value, unit text)`` of a typed number, or None when it is not a finite number we
    compare (NaN, infinity, an exponent past ``MAX_EXPONENT``, no digits)."""
    folded = unicodedata.normalize("NFKC", text).replace("\u2212", "-")
    match = _NUMBER.fullmatch(folded)
    if match is None:
        return None
    exponent = int(match["e"] or match["p"] or 0)
    digits = Decimal(match["number"])
    if digits and abs(exponent + digits.adjusted()) > MAX_EXPONENT:
        return None
    return Fraction(digits) * Fraction(10) ** exponent, match["unit"]


def _in_answer_unit(rule: NumericRule, value: Fraction, unit_text: str) -> Fraction | str:
    """``value`` expressed in the rule's unit, or the feedback saying why it cannot be."""
    if rule.unit is None:
        return value if not unit_text else "This answer takes no unit."
    if not unit_text:
        return "Give the unit." if rule.unit_mode == "required" else value
    if not rule.convert_units:
        same = normalise_unit(unit_text) == normalise_unit(rule.unit)
        return value if same else f"Give the answer in {rule.unit}."
    wanted = find_unit(rule.unit)
    given = find_unit(unit_text)
    assert wanted is not None  # the definition's validator saw to it
    if given is None or given.dimension != wanted.dimension:
        return f"{unit_text} is not a unit of this quantity."
    return _convert(value, given, wanted)


def _convert(value: Fraction, given: Unit, wanted: Unit) -> Fraction:
    return (given.to_base(value) - wanted.offset) / wanted.factor


def check_number(rule: NumericRule, text: str) -> Outcome:
    """How ``text`` fares against ``rule`` (never raises)."""
    if not text.strip():
        return Outcome(0.0, "No answer.")
    parsed = parse_number(text)
    if parsed is None:
        return Outcome(0.0, "This is not a number.")
    converted = _in_answer_unit(rule, *parsed)
    if isinstance(converted, str):
        return Outcome(0.0, converted)
    expected = Fraction(rule.value)
    allowed = Fraction(rule.tolerance)
    if rule.tolerance_mode == "relative":
        allowed *= abs(expected)
    return Outcome(1.0 if abs(converted - expected) <= allowed else 0.0)


def grade_numeric(definition: Numeric, response: NumericResponse) -> GradeResult:
    """Full credit within the tolerance, none outside it."""
    outcome = check_number(definition, response.answer)
    part = PartResult(
        part="answer",
        credit=outcome.credit,
        correct=outcome.correct,
        feedback=outcome.feedback,
    )
    return result(definition.points, outcome.credit, [part])


def view_unit(rule: NumericRule) -> str | None:
    """The unit shown to the student: only when the author chose to show it."""
    if rule.unit is None or not rule.show_unit:
        return None
    found = find_unit(rule.unit)
    return found.symbol if found is not None else rule.unit


def _present(definition: Numeric, _seed: str) -> tuple[View, Presentation]:
    view = NumericView(
        prompt=definition.prompt, points=definition.points, unit=view_unit(definition)
    )
    return view, Presentation()


NUMERIC = QuestionType(
    name="numeric",
    definition=Numeric,
    response=NumericResponse,
    present=_present,
    grade=grade_numeric,
    translate=untranslated,
    check=unchecked,
)
