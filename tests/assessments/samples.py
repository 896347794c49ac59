"""One definition of every question type with key material marked ``SECRET`` (or a number
that appears nowhere else), for the tests that check no view leaks it."""

from __future__ import annotations

from typing import Any

from lms.assessments.questions.registry import QuestionDefinition, parse_definition

SECRET = "SECRET"
SECRET_NUMBER = "987654.321"
"""A numeric key: its digits must not reach a view."""

CHOICES = [
    {"id": "SECRETa", "text": "Alpha", "feedback": "SECRET feedback a"},
    {"id": "SECRETb", "text": "Beta", "feedback": "SECRET feedback b"},
    {"id": "SECRETc", "text": "Gamma"},
]

RAW: dict[str, dict[str, Any]] = {
    "single_choice": {"choices": CHOICES, "answer": "SECRETb"},
    "multiple_choice": {"choices": CHOICES, "answers": ["SECRETa", "SECRETc"]},
    "true_false": {"answer": True, "feedback_true": "SECRET t", "feedback_false": "SECRET f"},
    "numeric": {"value": SECRET_NUMBER, "tolerance": "0.5", "unit": "km"},
    "short_answer": {
        "accepted": [{"text": "SECRET answer", "feedback": "SECRET well done"}],
        "patterns": [{"pattern": "SECRET.*", "credit": 0.5, "feedback": "SECRET near"}],
    },
}


def sample(kind: str, **changes: Any) -> QuestionDefinition:
    """The sample of ``kind``, with ``changes`` applied."""
    data = {
        "type": kind,
        "prompt": "Question?",
        "points": 3,
        "explanation": "SECRET explanation",
        **RAW[kind],
        **changes,
    }
    return parse_definition(data)


def samples() -> list[QuestionDefinition]:
    """One sample of every kind in ``RAW``."""
    return [sample(kind) for kind in RAW]
