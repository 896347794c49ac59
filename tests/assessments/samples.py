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
    "fill_blanks": {
        "template": "Water boils at [[SECRETtemp]] in [[SECRETcity]]; pick [[SECRETd]].",
        "blanks": [
            {"id": "SECRETtemp", "rule": {"kind": "numeric", "value": SECRET_NUMBER, "unit": "K"}},
            {
                "id": "SECRETcity",
                "weight": 2,
                "rule": {
                    "kind": "text",
                    "accepted": [{"text": "SECRET city", "feedback": "SECRET yes"}],
                    "patterns": [{"pattern": "SECRET"}],
                },
            },
            {
                "id": "SECRETd",
                "rule": {
                    "kind": "dropdown",
                    "options": [
                        {"id": "SECRETo1", "text": "one"},
                        {"id": "SECRETo2", "text": "two"},
                        {"id": "SECRETo3", "text": "three"},
                    ],
                    "answer": "SECRETo2",
                },
            },
        ],
    },
    "matching": {
        "pairs": [
            {"id": "SECRETp1", "prompt": "France", "answer": "SECRETparis", "feedback": "SECRET"},
            {"id": "SECRETp2", "prompt": "Italy", "answer": "SECRETrome"},
            {"id": "SECRETp3", "prompt": "Vatican", "answer": "SECRETrome"},
        ],
        "options": [
            {"id": "SECRETparis", "text": "Paris"},
            {"id": "SECRETrome", "text": "Rome"},
            {"id": "SECRETlyon", "text": "Lyon"},
        ],
    },
    "ordering": {
        "items": [
            {"id": "SECRET1", "text": "one"},
            {"id": "SECRET2", "text": "two"},
            {"id": "SECRET3", "text": "three"},
            {"id": "SECRET4", "text": "four"},
        ]
    },
    "math": {"answer": "987654321*x^2", "variables": ["x", "y"]},
    "essay": {"max_words": 300, "grading_notes": "SECRET notes"},
    "file_upload": {"allowed_types": ["application/pdf", "image/*"], "grading_notes": "SECRET"},
    "python_code": {
        "starter_code": "def add(a, b):\n    pass\n",
        "tests": [
            {"id": "SECRETt1", "name": "adds", "source": "assert add(1, 2) == 3", "hidden": False},
            {"id": "SECRETt2", "name": "SECRET name", "source": "assert add(SECRET) == 987654"},
        ],
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
