"""Assignments refuse bad input with problem documents and harm no one else: oversize and
malformed bodies, deep nesting, files that are not the student's own uploads (or not of a
type the assignment takes), another student's submission, graders' routes for students,
TAs and outsiders, a role taken away after the token was minted, malformed rubrics."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from conftest import PDF, Course

pytestmark = pytest.mark.postgres
LEVEL = {"id": "a", "title": "A", "points": "1"}
RUBRIC = {"title": "r", "criteria": [{"id": "c", "description": "d", "levels": [LEVEL]}]}


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return dict(response.json())


def test_bodies_that_are_oversize_malformed_or_nested_are_refused(course: Course) -> None:
    aid = course.assignment(max_text_chars=100)["id"]
    student = course.students[0]
    _problem(course.submit(student, aid, text="x" * 101), 422)
    _problem(course.submit(student, aid, text="x" * 200_001), 422)
    _problem(course.submit(student, aid), 422)  # neither text nor files
    _problem(course.submit(student, aid, text="ok", extra=True), 422)
    nested: Any = "x"
    for _ in range(200):
        nested = {"a": nested}
    _problem(course.submit(student, aid, text=nested), 422)
    bad_key = course.request(
        student,
        "POST",
        f"/api/v1/assignments/{aid}/submissions",
        json={"text": "ok"},
        headers={"Idempotency-Key": "k" * 201},
    )
    _problem(bad_key, 422)
    garbage = course.request(
        student,
        "POST",
        f"/api/v1/assignments/{aid}/submissions",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    _problem(garbage, 422)
    # Nothing of this was kept; a good submission still goes through.
    assert course.submit(student, aid, text="fine").json()["version"] == 1
    # Bad assignment settings.
    path = f"/api/v1/courses/{course.id}/assignments"
    _problem(course.request(course.teacher, "POST", path, json={"title": "x", "points": "-1"}), 422)
    dates = {"title": "x", "due_at": "2030-01-02T00:00:00Z", "lock_at": "2030-01-01T00:00:00Z"}
    _problem(course.request(course.teacher, "POST", path, json=dates), 422)
    _problem(
        course.request(
            course.teacher, "POST", path, json={"title": "x", "allowed_extensions": ["../"]}
        ),
        422,
    )


def test_files_must_be_the_students_own_uploads_of_an_allowed_type(course: Course) -> None:
    aid = course.assignment(
        submission_types=["file"], allowed_extensions=["pdf"], max_file_bytes=1000
    )["id"]
    text_only = course.assignment(submission_types=["text"])["id"]
    first, second = course.students[0], course.students[1]
    theirs = course.upload(second, aid, PDF, "theirs.pdf")
    refused = _problem(course.submit(first, aid, file_ids=[theirs]), 422)
    assert refused["file_id"] == theirs
    _problem(course.submit(first, aid, file_ids=[2**40]), 422)
    # Refused when the upload starts: wrong extension, too large, a text-only assignment,
    # no assignment named (learners upload nothing else), an assignment of no course of theirs.
    _problem(course.start_upload(first, aid, b"MZ", "tool.exe"), 422)
    _problem(course.start_upload(first, aid, b"x" * 1001, "big.pdf"), 422)
    _problem(course.start_upload(first, text_only, PDF, "a.pdf"), 422)
    _problem(course.start_upload(first, None, PDF, "a.pdf"), 403)
    _problem(course.start_upload(first, "not-a-uuid", PDF, "a.pdf"), 422)
    _problem(course.start_upload(course.outsider, aid, PDF, "a.pdf"), 403)
    # A program renamed .pdf uploads (the name is all the upload declares) but is refused.
    renamed = course.upload(first, aid, b"MZ\x90\x00" + bytes(60), "fake.pdf")
    refused = _problem(course.submit(first, aid, file_ids=[renamed]), 422)
    assert refused["content_type"] == "application/octet-stream"
    mine = course.upload(first, aid, PDF, "mine.pdf")
    made = course.submit(first, aid, file_ids=[mine, mine])
    _problem(made, 422)
    done = course.submit(first, aid, file_ids=[mine])
    assert done.status_code == 201
    # Another student reaches neither the submission's file nor its grading.
    sub = done.json()["id"]
    _problem(course.request(second, "POST", f"/api/v1/submissions/{sub}/files/{mine}/link"), 404)
    _problem(
        course.request(second, "POST", f"/api/v1/submissions/{sub}/comments", json={"body": "x"}),
        403,
    )


def test_grader_routes_refuse_students_outsiders_and_tas_where_instructors_only(
    course: Course,
) -> None:
    aid = course.assignment()["id"]
    student = course.students[0]
    assert course.submit(student, aid, text="hello").status_code == 201
    key = course.grading(course.teacher, aid)["entries"][0]["key"]
    grader_routes = [
        ("GET", f"/api/v1/assignments/{aid}/grading", None),
        ("GET", f"/api/v1/assignments/{aid}/grading/{key}", None),
        ("PUT", f"/api/v1/assignments/{aid}/grading/{key}", {"score": "1"}),
        ("GET", f"/api/v1/courses/{course.id}/rubrics", None),
    ]
    instructor_routes = [
        ("POST", f"/api/v1/assignments/{aid}/reveal", None),
        ("POST", f"/api/v1/assignments/{aid}/post", None),
        ("PATCH", f"/api/v1/assignments/{aid}", {"title": "x"}),
        ("PUT", f"/api/v1/assignments/{aid}/extensions", {"user_id": course.user_ids[0]}),
        ("POST", f"/api/v1/courses/{course.id}/rubrics", RUBRIC),
    ]
    for method, path, body in grader_routes + instructor_routes:
        for token in (student, course.outsider):
            _problem(course.request(token, method, path, json=body), 403)
    for method, path, body in instructor_routes:
        _problem(course.request(course.ta, method, path, json=body), 403)
    # Graders may not submit.
    _problem(course.submit(course.ta, aid, text="x"), 403)
    # A key that names nobody.
    _problem(course.request(course.ta, "GET", f"/api/v1/assignments/{aid}/grading/{'0' * 32}"), 404)
    _problem(course.request(course.ta, "GET", f"/api/v1/assignments/{aid}/grading/nope"), 422)


def test_a_role_taken_away_after_the_token_was_minted_applies_at_once(course: Course) -> None:
    aid = course.assignment()["id"]
    assert course.grading(course.ta, aid)["entries"]
    ta_id = course.me(course.ta)
    course.call(course.teacher, "DELETE", f"/api/v1/courses/{course.id}/enrollments/{ta_id}")
    _problem(course.request(course.ta, "GET", f"/api/v1/assignments/{aid}/grading"), 403)
    student = course.students[2]
    course.call(
        course.teacher, "DELETE", f"/api/v1/courses/{course.id}/enrollments/{course.user_ids[2]}"
    )
    _problem(course.submit(student, aid, text="too late"), 404)


def test_malformed_rubrics_and_rubric_grades_are_refused(course: Course) -> None:
    path = f"/api/v1/courses/{course.id}/rubrics"
    level = {"id": "a", "title": "A", "points": "1"}
    twice = {
        "title": "r",
        "criteria": [
            {"id": "c", "description": "d", "levels": [level]},
            {"id": "c", "description": "d", "levels": [level]},
        ],
    }
    _problem(course.request(course.teacher, "POST", path, json=twice), 422)
    repeated_level = {
        "title": "r",
        "criteria": [{"id": "c", "description": "d", "levels": [level, level]}],
    }
    _problem(course.request(course.teacher, "POST", path, json=repeated_level), 422)
    _problem(
        course.request(course.teacher, "POST", path, json={"title": "r", "criteria": "x"}), 422
    )
    no_levels = {"title": "r", "criteria": [{"id": "c", "description": "d", "levels": []}]}
    _problem(course.request(course.teacher, "POST", path, json=no_levels), 422)
    rubric = course.rubric()
    other = Course(course.node).rubric()
    _problem(
        course.request(
            course.teacher,
            "POST",
            f"/api/v1/courses/{course.id}/assignments",
            json={"title": "x", "rubric_id": other["id"]},
        ),
        422,
    )
    aid = course.assignment(rubric_id=rubric["id"])["id"]
    plain = course.assignment()["id"]
    key = course.grading(course.teacher, aid)["entries"][0]["key"]
    grade = f"/api/v1/assignments/{aid}/grading/{key}"
    _problem(course.request(course.teacher, "PUT", grade, json={"rubric": {"nope": "full"}}), 422)
    _problem(course.request(course.teacher, "PUT", grade, json={"rubric": {"thesis": "nope"}}), 422)
    _problem(course.request(course.teacher, "PUT", grade, json={}), 422)
    plain_key = course.grading(course.teacher, plain)["entries"][0]["key"]
    _problem(
        course.request(
            course.teacher,
            "PUT",
            f"/api/v1/assignments/{plain}/grading/{plain_key}",
            json={"rubric": {"thesis": "full"}},
        ),
        422,
    )
    assert course.grading(course.teacher, aid)["entries"][0]["score"] is None
