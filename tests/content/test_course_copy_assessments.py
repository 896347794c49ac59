"""Course copy carries the assessments on a real node (SQLite and PostgreSQL): question banks
and their questions, quizzes (slots pointing at the copied questions and banks), rubrics and
assignments (instructions page and rubric pointing at the copies), the gradebook's settings,
groups and columns (in the copied groups), and the module items showing a quiz or an
assignment. No attempt, submission, score or override is copied."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from kits.nodes import Node

pytestmark = pytest.mark.postgres


class Setup:
    def __init__(self, node: Node) -> None:
        self.node = node
        _, self.teacher = node.register("instructor")
        student_email, self.student = node.register()
        made = self.call("POST", "/api/v1/courses", json={"code": self.code(), "title": "Optics"})
        self.id = made["id"]
        enrolled = self.call(
            "POST",
            f"/api/v1/courses/{self.id}/enrollments",
            json={"email": student_email, "role": "student"},
        )
        self.student_id = enrolled["user_id"]

    @staticmethod
    def code() -> str:
        return f"O-{uuid.uuid4().hex[:8]}"

    def request(
        self, method: str, path: str, token: str | None = None, **kw: Any
    ) -> httpx.Response:
        with self.node.client(token or self.teacher) as client:
            return client.request(method, path, **kw)

    def call(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        response = self.request(method, path, token, **kw)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json() if response.content else None


def test_a_copy_has_the_assessments_and_gradebook_but_no_ones_work(node: Node) -> None:
    s = Setup(node)
    base = f"/api/v1/courses/{s.id}"
    bank = s.call("POST", f"{base}/question-banks", json={"title": "Lenses"})["id"]
    definition = {
        "type": "numeric",
        "prompt": "Focal length?",
        "points": 2,
        "value": "10",
        "tolerance": "0.5",
    }
    question = s.call(
        "POST",
        f"/api/v1/question-banks/{bank}/questions",
        json={"title": "f", "tags": [], "definition": definition},
    )
    s.call(
        "POST",
        f"/api/v1/question-banks/{bank}/questions",
        json={"title": "g", "tags": ["lens"], "definition": definition},
    )
    slots = [{"question_id": question["id"]}, {"bank_id": bank, "count": 1, "tags": ["lens"]}]
    quiz = s.call(
        "POST",
        f"{base}/quizzes",
        json={
            "title": "Lens quiz",
            "published": True,
            "slots": slots,
            "due_at": "2031-01-05T10:00:00Z",
        },
    )
    level = [{"id": "ok", "title": "OK", "points": "5"}]
    rubric = s.call(
        "POST",
        f"{base}/rubrics",
        json={"title": "R", "criteria": [{"id": "c", "description": "Clarity", "levels": level}]},
    )
    assignment = s.call(
        "POST",
        f"{base}/assignments",
        json={"title": "Lab report", "points": "5", "published": True, "rubric_id": rubric["id"]},
    )
    # The gradebook: weighted, a second group holding the quiz, a manual column, a letter scheme.
    gb = f"{base}/gradebook"
    exams = s.call("POST", f"{gb}/groups", json={"name": "Exams", "weight": "60", "drop_lowest": 1})
    s.call(
        "PATCH",
        f"{gb}/settings",
        json={"weighted": True, "scheme": [{"name": "P", "min": 50}, {"name": "F", "min": 0}]},
    )
    manual = s.call(
        "POST", f"{gb}/columns", json={"title": "Participation", "points_possible": "3"}
    )
    structure = s.call("GET", gb)
    quiz_column = next(c for c in structure["columns"] if c["source_id"] == quiz["id"])
    s.call("PATCH", f"{gb}/columns/{quiz_column['id']}", json={"group_id": exams["id"]})
    # Learners' work: an attempt, a submission, scores, an override.
    s.call("POST", f"/api/v1/quizzes/{quiz['id']}/attempts", s.student)
    s.call(
        "POST",
        f"/api/v1/assignments/{assignment['id']}/submissions",
        s.student,
        json={"text": "mine"},
    )
    s.call("PUT", f"{gb}/columns/{manual['id']}/grades/{s.student_id}", json={"score": "3"})
    grading = f"/api/v1/assignments/{assignment['id']}/grading"
    key = s.call("GET", grading)["entries"][0]["key"]
    s.call("PUT", f"{grading}/{key}", json={"score": "4"})  # its column now exists
    s.call("PUT", f"{gb}/overrides/{s.student_id}", json={"percent": "90", "reason": "bonus"})
    module = s.call("POST", f"{base}/modules", json={"title": "Week 1", "published": True})
    for kind, target in (("quiz", quiz["id"]), ("assignment", assignment["id"])):
        s.call(
            "POST",
            f"/api/v1/modules/{module['id']}/items",
            json={"kind": kind, "title": kind, "target_id": target, "published": True},
        )

    copied = s.call("POST", f"{base}/copy", json={"code": Setup.code(), "title": "Optics 2"})
    new = copied["course_id"]
    assert copied["skipped"] == 0
    nbase = f"/api/v1/courses/{new}"
    banks = s.call("GET", f"{nbase}/question-banks")["items"]
    assert [b["title"] for b in banks] == ["Lenses"] and banks[0]["id"] != bank
    questions = s.call("GET", f"/api/v1/question-banks/{banks[0]['id']}/questions")["items"]
    questions.sort(key=lambda q: q["title"])
    assert [(q["title"], q["tags"]) for q in questions] == [("f", []), ("g", ["lens"])]
    assert questions[0]["id"] != question["id"]
    quizzes = s.call("GET", f"{nbase}/quizzes")["items"]
    assert [q["title"] for q in quizzes] == ["Lens quiz"]
    new_quiz = s.call("GET", f"/api/v1/quizzes/{quizzes[0]['id']}")
    assert new_quiz["due_at"].startswith("2031-01-05T10:00:00")
    assert new_quiz["slots"] == [
        {"question_id": questions[0]["id"]},
        {"bank_id": banks[0]["id"], "count": 1, "tags": ["lens"]},
    ]
    rubrics = s.call("GET", f"{nbase}/rubrics")["items"]
    assert [r["title"] for r in rubrics] == ["R"] and rubrics[0]["id"] != rubric["id"]
    assignments = s.call("GET", f"{nbase}/assignments")["items"]
    assert [(a["title"], a["rubric_id"]) for a in assignments] == [("Lab report", rubrics[0]["id"])]
    # The gradebook's structure, pointing at the copies; not one score or override.
    copy_structure = s.call("GET", f"{nbase}/gradebook")
    assert copy_structure["settings"]["weighted"] is True
    assert [e["name"] for e in copy_structure["settings"]["scheme"]] == ["P", "F"]
    groups = {g["id"]: g for g in copy_structure["groups"]}
    assert sorted((g["name"], g["weight"], g["drop_lowest"]) for g in groups.values()) == sorted(
        (g["name"], g["weight"], g["drop_lowest"]) for g in structure["groups"]
    )
    by_title = {c["title"]: c for c in copy_structure["columns"]}
    assert set(by_title) == {"Lens quiz", "Lab report", "Participation"}
    assert by_title["Lens quiz"]["source_id"] == new_quiz["id"]
    assert groups[by_title["Lens quiz"]["group_id"]]["name"] == "Exams"
    assert by_title["Lab report"]["source_id"] == assignments[0]["id"]
    assert by_title["Participation"]["source_id"] == by_title["Participation"]["id"] != manual["id"]
    grid = s.call("GET", f"{nbase}/gradebook/grid")
    assert grid["rows"] == []  # nobody but the copier is enrolled
    assert s.call("GET", f"/api/v1/quizzes/{new_quiz['id']}/attempts")["items"] == []
    entries = s.call("GET", f"/api/v1/assignments/{assignments[0]['id']}/grading")["entries"]
    assert entries == []
    history = s.call("GET", f"{nbase}/gradebook/history")["items"]
    assert history == []
    # The module items show the copies.
    content = s.call("GET", f"{nbase}/content")
    items = {i["kind"]: i for m in content["modules"] for i in m["items"]}
    assert items["quiz"]["target_id"] == new_quiz["id"]
    assert items["assignment"]["target_id"] == assignments[0]["id"]
    # The source is untouched.
    assert (
        s.call("GET", f"/api/v1/quizzes/{quiz['id']}")["slots"][0]["question_id"] == question["id"]
    )
