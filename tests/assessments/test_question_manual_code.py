"""Essays, file uploads and code questions: manual or pending results, limits, run grades."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lms.assessments.errors import InvalidResponse
from lms.assessments.questions.manual import (
    Essay,
    EssayResponse,
    FileUpload,
    count_words,
    grade_essay,
    type_allowed,
)
from lms.assessments.questions.python_code import (
    CodeRun,
    PythonCode,
    PythonCodeResponse,
    grade_pending,
    grade_run,
)
from lms.assessments.questions.registry import accept, grade, student_view


def test_word_count() -> None:
    assert count_words("") == 0
    assert count_words("  Don't stop — well-known, 3 times!  ") == 5
    assert count_words("déjà vu") == 2


def test_essay_is_manual_with_word_limit() -> None:
    essay = Essay(prompt="Discuss.", max_words=5, min_words=2)
    graded = grade_essay(essay, EssayResponse(text="one two three"))
    assert graded.status == "manual" and graded.needs_manual and graded.score == 0
    with pytest.raises(InvalidResponse):
        accept(essay, {"text": "one two three four five six"})
    accept(essay, {"text": "one two three four five"})
    with pytest.raises(ValidationError):
        EssayResponse(text="x" * 100_001)
    with pytest.raises(ValidationError):
        Essay(prompt="Q", min_words=10, max_words=5)


def test_file_upload_checks_types_count_and_size() -> None:
    question = FileUpload(prompt="Upload.", allowed_types=["application/pdf", "image/*"])
    pdf = {"file_id": "f1", "content_type": "application/pdf", "size": 10}
    accept(question, {"files": [pdf]})
    png = {"file_id": "f2", "content_type": "image/png; charset=x", "size": 10}
    with pytest.raises(InvalidResponse):
        accept(question, {"files": [pdf, png]})  # max_files is 1
    with pytest.raises(InvalidResponse):
        accept(question, {"files": [{**pdf, "content_type": "text/html"}]})
    with pytest.raises(InvalidResponse):
        accept(question, {"files": [{**pdf, "size": 1 << 40}]})
    graded = grade(question, accept(question, {"files": [pdf]}))
    assert graded.status == "manual" and [p.part for p in graded.parts] == ["f1"]
    assert type_allowed(["image/*"], "IMAGE/PNG")
    with pytest.raises(ValidationError):
        FileUpload(prompt="Q", allowed_types=["pdf"])


CODE = PythonCode.model_validate(
    {
        "prompt": "Write add(a, b).",
        "points": 10,
        "starter_code": "def add(a, b):\n    pass\n",
        "tests": [
            {"id": "t1", "name": "small", "source": "assert add(1, 2) == 3", "hidden": False},
            {"id": "t2", "name": "big", "source": "assert add(10**6, 1) == 1000001", "weight": 3},
        ],
    }
)


def test_code_view_shows_visible_tests_only() -> None:
    view = student_view(CODE, "s").model_dump()
    assert view["visible_tests"] == [{"name": "small", "source": "assert add(1, 2) == 3"}]
    assert view["hidden_tests"] == 1
    assert "1000001" not in str(view)


def test_code_before_a_run_is_pending() -> None:
    graded = grade_pending(CODE, PythonCodeResponse(code="def add(a, b): return a + b"))
    assert graded.status == "pending" and graded.needs_manual


def test_code_run_grades_by_weight_and_hides_hidden_messages() -> None:
    run = CodeRun.model_validate(
        {
            "status": "completed",
            "tests": [
                {"id": "t1", "passed": True},
                {"id": "t2", "passed": False, "message": "AssertionError: 1000001 != 7"},
            ],
        }
    )
    graded = grade_run(CODE, run)
    assert graded.score == 2.5 and graded.status == "graded"
    assert all(part.feedback is None for part in graded.parts)
    visible_fail = CodeRun.model_validate(
        {"status": "completed", "tests": [{"id": "t1", "passed": False, "message": "got 4"}]}
    )
    assert grade_run(CODE, visible_fail).parts[0].feedback == "got 4"


@pytest.mark.parametrize(
    "status", ["timeout", "memory", "output_limit", "forbidden", "syntax_error", "crashed"]
)
def test_a_failed_run_scores_zero_with_a_clear_reason(status: str) -> None:
    run = CodeRun.model_validate({"status": status, "tests": [{"id": "t1", "passed": True}]})
    graded = grade_run(CODE, run)
    assert graded.score == 0 and graded.status == "graded" and graded.feedback


def test_a_sandbox_error_stays_pending() -> None:
    graded = grade_run(CODE, CodeRun(status="sandbox_error"))
    assert graded.status == "pending"


def test_code_definitions_refused() -> None:
    with pytest.raises(ValidationError):
        PythonCode.model_validate({"prompt": "Q", "tests": []})
    with pytest.raises(ValidationError):
        PythonCode.model_validate(
            {"prompt": "Q", "tests": [{"id": "a", "name": "n", "source": "x" * 64_001}]}
        )
