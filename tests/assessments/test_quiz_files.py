"""File-upload answers (SQLite and PostgreSQL): a student uploads through tus naming their
open attempt, answers with the file's id, and the stored type and size are kept (not the
browser's); files of another student, of the teacher, or of nobody are refused, as are
uploads naming someone else's attempt or none."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from kits.nodes import Node
from tests.assessments.test_quiz_api import Course

pytestmark = pytest.mark.postgres
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture(scope="module")
def course(node: Node) -> Course:
    return Course(node)


def _upload(course: Course, token: str, attempt_id: str | None, name: str) -> httpx.Response:
    pairs = {"filename": name, **({"attempt": attempt_id} if attempt_id else {})}
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())
    return course.request(
        token,
        "POST",
        f"/api/v1/courses/{course.id}/uploads",
        content=PDF,
        headers={
            **TUS,
            "Upload-Length": str(len(PDF)),
            "Upload-Metadata": meta,
            "Content-Type": "application/offset+octet-stream",
        },
    )


def _file_id(made: httpx.Response) -> str:
    assert made.status_code == 201, made.text
    return made.headers["Content-Location"].rsplit("/", 1)[1]


def _answer(file_id: str) -> dict[str, Any]:
    return {"files": [{"file_id": file_id, "content_type": "application/pdf", "size": 1}]}


def test_a_student_answers_with_their_own_upload_only(course: Course) -> None:
    quiz = course.quiz(["file_upload"], max_attempts=None)
    question = course.questions["file_upload"]
    mine = course.start(quiz["id"])
    theirs = course.start(quiz["id"], course.student2)
    own = _file_id(_upload(course, course.student, mine["id"], "report.pdf"))
    saved = course.call(
        course.student,
        "PUT",
        f"/api/v1/attempts/{mine['id']}/answers",
        json={"seq": 1, "answers": {question: _answer(own)}},
    )
    assert saved["saved"] == [question]
    shown = course.call(course.student, "GET", f"/api/v1/attempts/{mine['id']}")
    answer = {q["id"]: q["answer"] for q in shown["questions"]}[question]
    assert answer["files"][0]["file_id"] == own
    assert answer["files"][0]["size"] == len(PDF)  # the stored size, not the browser's 1
    # Another student's file, the teacher's file, a file that does not exist: refused.
    teachers = _file_id(_upload(course, course.teacher, None, "key.pdf"))
    for other in (own, teachers, "999999999", "9" * 60, "x"):
        refused = course.request(
            course.student2,
            "PUT",
            f"/api/v1/attempts/{theirs['id']}/answers",
            json={"seq": 1, "answers": {question: _answer(other)}},
        )
        assert refused.status_code == 422, (other, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    # Uploads naming someone else's attempt, or nothing a learner may upload for.
    assert _upload(course, course.student2, mine["id"], "x.pdf").status_code == 404
    assert _upload(course, course.student2, None, "x.pdf").status_code == 403
    assert _upload(course, course.student2, "not-an-id", "x.pdf").status_code == 422
    # Once submitted, the attempt takes no more uploads.
    course.call(course.student, "POST", f"/api/v1/attempts/{mine['id']}/submit")
    assert _upload(course, course.student, mine["id"], "late.pdf").status_code == 409
