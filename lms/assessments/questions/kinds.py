"""The shape every question type fills in, so later code dispatches by name, not by if-chains.

A type gives its definition and response models and four pure functions: ``present`` (the
student view and its hidden token mapping for a seed), ``translate`` (a response between
view tokens and author ids), ``check`` (refuse a response naming parts the question lacks)
and ``grade``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from lms.assessments.questions.base import Definition, Response, View
from lms.assessments.questions.results import GradeResult
from lms.assessments.questions.shuffle import Presentation, Translator

D = TypeVar("D", bound=Definition)
R = TypeVar("R", bound=Response)


@dataclass(frozen=True)
class QuestionType(Generic[D, R]):
    """One question type (see the module docstring)."""

    name: str
    definition: type[D]
    response: type[R]
    present: Callable[[D, str], tuple[View, Presentation]]
    grade: Callable[[D, R], GradeResult]
    translate: Callable[[R, Translator], R]
    check: Callable[[D, R], None]


def untranslated(response: R, _translate: Translator) -> R:
    """``translate`` of a type whose responses name no choice, item or blank."""
    return response


def unchecked(_definition: Any, _response: Any) -> None:
    """``check`` of a type whose response models already say everything."""
