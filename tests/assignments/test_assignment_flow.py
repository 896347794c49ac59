"""Assignments on a real node (SQLite and PostgreSQL): instructions as a course page, text
and file submissions kept as history, Idempotency-Key replays, the lock date and an
extension, late policy at grading, rubric grading, posting, progress, anonymous grading
with no identity in the raw JSON, and group assignments."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import PDF, Course

from kits.nodes import PASSWORD

pytestmark = pytest.mark.postgres


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def test_text_and_file_submissions_are_kept_graded_by_rubric_and_posted(course: Course) -> None:
    rubric = course.rubric()
    assert rubric["points"] == "10.00"
    made = course.assignment(
        points="10",
        submission_types=["text", "file"],
        allowed_extensions=["pdf"],
        rubric_id=rubric["id"],
    )
    aid = made["id"]
    # The instructions are a course page: its live document, published like any page.
    editor = course.call(course.teacher, "POST", f"/api/v1/pages/{made['page_id']}/editor")
    assert editor["document"] == f"courses/{course.id}/pages/{made['page_id']}"
    course.call(course.teacher, "POST", f"/api/v1/pages/{made['page_id']}/publish")
    # An assignment is a module item whose requirement is to submit.
    module = course.call(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/modules",
        json={"title": "Week 1", "published": True},
    )
    item = course.call(
        course.teacher,
        "POST",
        f"/api/v1/modules/{module['id']}/items",
        json={"kind": "assignment", "title": "Essay", "target_id": aid, "published": True},
    )
    assert item["requirement"] == "submit"

    student = course.students[0]
    seen = course.call(student, "GET", f"/api/v1/assignments/{aid}")
    assert seen["instructions_html"] == "" and seen["my_due_at"] is None
    key = {"Idempotency-Key": "essay-v1"}
    first = course.request(
        student,
        "POST",
        f"/api/v1/assignments/{aid}/submissions",
        json={"text": "# Thesis\n<script>alert(1)</script> **bold**"},
        headers=key,
    )
    assert first.status_code == 201, first.text
    assert (
        "<script>" not in first.json()["html"] and "<strong>bold</strong>" in first.json()["html"]
    )
    again = course.request(
        student,
        "POST",
        f"/api/v1/assignments/{aid}/submissions",
        json={"text": "something else"},
        headers=key,
    )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    file_id = course.upload(student, aid, PDF, "essay.pdf")
    second = course.submit(student, aid, text="v2", file_ids=[file_id])
    assert second.status_code == 201, second.text
    assert second.json()["version"] == 2 and second.json()["files"][0]["name"] == "essay.pdf"
    mine = course.call(student, "GET", f"/api/v1/assignments/{aid}/submissions/mine")
    assert [s["version"] for s in mine["submissions"]] == [2, 1]
    assert mine["grade"] is None
    content = course.call(student, "GET", f"/api/v1/courses/{course.id}/content")
    progress = content["modules"][0]["items"][0]["progress"]
    assert progress["submitted"] and progress["completed"]

    # The student previews their own file; another student cannot.
    sub_id = second.json()["id"]
    link = course.call(student, "POST", f"/api/v1/submissions/{sub_id}/files/{file_id}/link")
    assert link["content_type"] == "application/pdf" and link["disposition"] == "inline"
    other = course.request(
        course.students[1], "POST", f"/api/v1/submissions/{sub_id}/files/{file_id}/link"
    )
    assert other.status_code == 404
    with course.node.client() as anonymous:
        assert anonymous.get(link["url"]).content == PDF

    # The TA grades by rubric and comments on a range of the text.
    listing = course.grading(course.ta, aid)
    states = {e["user_id"]: e["state"] for e in listing["entries"]}
    assert states[course.user_ids[0]] == "submitted"
    assert states[course.user_ids[1]] == "not_due"
    entry = next(e for e in listing["entries"] if e["user_id"] == course.user_ids[0])
    graded = course.call(
        course.ta,
        "PUT",
        f"/api/v1/assignments/{aid}/grading/{entry['key']}",
        json={"rubric": {"thesis": "part", "style": "good"}},
    )
    assert graded["grade"]["score"] == "7.00" and graded["grade"]["submission_id"] == sub_id
    comment = course.call(
        course.ta,
        "POST",
        f"/api/v1/submissions/{sub_id}/comments",
        json={"body": "Say more", "start": 0, "end": 2},
    )
    assert (comment["start"], comment["end"]) == (0, 2)
    # Hidden until posted.
    mine = course.call(student, "GET", f"/api/v1/assignments/{aid}/submissions/mine")
    assert mine["grade"] is None and mine["comments"] == []
    assert course.request(course.ta, "POST", f"/api/v1/assignments/{aid}/post").status_code == 403
    assert course.call(course.teacher, "POST", f"/api/v1/assignments/{aid}/post") == {"posted": 1}
    mine = course.call(student, "GET", f"/api/v1/assignments/{aid}/submissions/mine")
    assert mine["grade"]["score"] == "7.00"
    assert mine["grade"]["rubric"] == {"thesis": "part", "style": "good"}
    assert [c["body"] for c in mine["comments"]] == ["Say more"]
    assert mine["rubric"]["id"] == rubric["id"]
    # A regrade after posting is shown at once.
    course.call(
        course.ta,
        "PUT",
        f"/api/v1/assignments/{aid}/grading/{entry['key']}",
        json={"rubric": {"thesis": "full", "style": "good"}},
    )
    mine = course.call(student, "GET", f"/api/v1/assignments/{aid}/submissions/mine")
    assert mine["grade"]["score"] == "10.00" and mine["grade"]["posted"] is True


def test_lock_date_refuses_and_an_extension_lets_exactly_that_student_submit(
    course: Course,
) -> None:
    now = datetime.now(UTC)
    made = course.assignment(
        points="10",
        due_at=_iso(now - timedelta(days=3, hours=1)),
        lock_at=_iso(now - timedelta(hours=1)),
        late_policy={"per_day": "10", "cap": "30", "floor": "50"},
    )
    aid = made["id"]
    refused = course.submit(course.students[0], aid, text="late")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "locked" in refused.json()["detail"] and refused.json()["lock_at"]
    extension = {
        "user_id": course.user_ids[0],
        "lock_at": _iso(now + timedelta(days=1)),
    }
    course.call(course.teacher, "PUT", f"/api/v1/assignments/{aid}/extensions", json=extension)
    mine = course.call(course.students[0], "GET", f"/api/v1/assignments/{aid}")
    assert mine["my_lock_at"] is not None and mine["my_lock_at"] != mine["lock_at"]
    assert course.submit(course.students[0], aid, text="late").status_code == 201
    assert course.submit(course.students[1], aid, text="late").status_code == 409
    # Graded: 4 started days late, 10% a day capped at 30% -> 9 - 3 = 6.
    listing = course.grading(course.teacher, aid)
    entry = next(e for e in listing["entries"] if e["user_id"] == course.user_ids[0])
    assert entry["late"] and entry["state"] == "submitted"
    missing = next(e for e in listing["entries"] if e["user_id"] == course.user_ids[1])
    assert missing["state"] == "missing"
    graded = course.call(
        course.teacher,
        "PUT",
        f"/api/v1/assignments/{aid}/grading/{entry['key']}",
        json={"score": "9"},
    )
    assert graded["grade"]["late_days"] == 4
    assert graded["grade"]["late_deduction"] == "3.00" and graded["grade"]["score"] == "6.00"
    # The floor: 50% of 10 points; a raw 6 loses only 1.
    graded = course.call(
        course.teacher,
        "PUT",
        f"/api/v1/assignments/{aid}/grading/{entry['key']}",
        json={"score": "6"},
    )
    assert graded["grade"]["score"] == "5.00"
    # Each grade reached the gradebook, with its flags and the deduction as computed here.
    with course.node.client(course.node.admin_token()) as admin:
        found = admin.get("/api/v1/audit-events", params={"action_prefix": "grade."}).json()
    mine = [e for e in found["items"] if e["target_id"].endswith(f":{course.user_ids[0]}")]
    news = [e["detail"]["new"] for e in mine]
    assert {"score": "6.00", "late": True, "late_deduction": "3.00"}.items() <= news[-1].items()
    assert {"score": "5.00", "late": True, "late_deduction": "1.00"}.items() <= news[0].items()


def test_anonymous_grading_leaks_no_identity_until_names_are_revealed(course: Course) -> None:
    made = course.assignment(anonymous=True)
    aid = made["id"]
    for token in course.students:
        assert course.submit(token, aid, text="mine").status_code == 201
    secrets = [*course.user_ids, *course.names, *course.emails.values()]

    def raw(path: str, method: str = "GET", **kw: Any) -> str:
        response = course.request(course.ta, method, path, **kw)
        assert response.status_code == 200, response.text
        return response.text

    listing_raw = raw(f"/api/v1/assignments/{aid}/grading")
    listing = course.grading(course.ta, aid)
    assert listing["anonymous"] is True
    assert sorted(e["label"] for e in listing["entries"]) == ["Student 1", "Student 2", "Student 3"]
    keys = [e["key"] for e in listing["entries"]]
    detail_raw = raw(f"/api/v1/assignments/{aid}/grading/{keys[0]}")
    graded_raw = raw(f"/api/v1/assignments/{aid}/grading/{keys[0]}", "PUT", json={"score": "5"})
    for text in (listing_raw, detail_raw, graded_raw):
        for secret in secrets:
            assert secret not in text
    # The shuffle is stable, and the list pages in that order.
    assert [e["key"] for e in course.grading(course.ta, aid)["entries"]] == keys
    first = course.request(course.ta, "GET", f"/api/v1/assignments/{aid}/grading?limit=2")
    assert 'rel="next"' in first.headers["Link"]
    rest = course.call(
        course.ta,
        "GET",
        f"/api/v1/assignments/{aid}/grading",
        params={"cursor": first.json()["next"]},
    )
    assert [e["key"] for e in first.json()["entries"] + rest["entries"]] == keys
    assert rest["next"] is None
    # Only an instructor reveals.
    assert course.request(course.ta, "POST", f"/api/v1/assignments/{aid}/reveal").status_code == 403
    course.call(course.teacher, "POST", f"/api/v1/assignments/{aid}/reveal")
    revealed = course.grading(course.ta, aid)
    assert revealed["anonymous"] is False
    assert {e["user_id"] for e in revealed["entries"]} == set(course.user_ids)
    assert {e["name"] for e in revealed["entries"]} == set(course.names)


def test_a_group_hands_in_once_and_is_graded_together_with_an_override(course: Course) -> None:
    a, b, c = course.user_ids
    group_set = course.call(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/group-sets",
        json={"name": "Pairs", "groups": [{"name": "Red", "members": [a, b]}]},
    )
    made = course.assignment(group_set_id=group_set["id"], points="20")
    aid = made["id"]
    assert course.submit(course.students[0], aid, text="ours").status_code == 201
    assert course.submit(course.students[1], aid, text="ours, v2").status_code == 201
    mine = course.call(course.students[0], "GET", f"/api/v1/assignments/{aid}/submissions/mine")
    assert [s["version"] for s in mine["submissions"]] == [2, 1]
    alone = course.call(course.students[2], "GET", f"/api/v1/assignments/{aid}/submissions/mine")
    assert alone["submissions"] == []
    entries = {e["user_id"]: e for e in course.grading(course.teacher, aid)["entries"]}
    assert entries[b]["versions"] == 2 and entries[c]["state"] == "not_due"
    path = f"/api/v1/assignments/{aid}/grading"
    course.call(course.teacher, "PUT", f"{path}/{entries[a]['key']}", json={"score": "15"})
    course.call(
        course.teacher,
        "PUT",
        f"{path}/{entries[b]['key']}",
        json={"score": "18", "whole_group": False},
    )
    scores = {e["user_id"]: e["score"] for e in course.grading(course.teacher, aid)["entries"]}
    assert scores == {a: "15.00", b: "18.00", c: None}


def test_other_courses_and_missing_things_answer_404(course: Course) -> None:
    made = course.assignment()
    other = Course(course.node)
    # A student of another course sees neither the assignment nor its grading.
    assert (
        course.request(other.students[0], "GET", f"/api/v1/assignments/{made['id']}").status_code
        == 404
    )
    assert course.submit(other.students[0], made["id"], text="x").status_code == 404
    assert (
        course.request(
            other.teacher, "GET", f"/api/v1/assignments/{made['id']}/grading"
        ).status_code
        == 403
    )
    assert (
        course.request(course.teacher, "GET", f"/api/v1/assignments/{uuid.uuid4()}").status_code
        == 404
    )


def test_privacy_export_lists_submissions_and_erasure_removes_them(course: Course) -> None:
    aid = course.assignment()["id"]
    student = course.students[0]
    assert course.submit(student, aid, text="my private essay").status_code == 201
    key = course.grading(course.teacher, aid)["entries"]
    mine = next(e for e in key if e["user_id"] == course.user_ids[0])
    course.call(
        course.teacher,
        "PUT",
        f"/api/v1/assignments/{aid}/grading/{mine['key']}",
        json={"score": "3"},
    )
    export = course.call(student, "GET", "/api/v1/users/me/export")["assignments"]
    assert [s["text"] for s in export["submissions"]] == ["my private essay"]
    assert [g["score"] for g in export["grades"]] == ["3.00"]
    erased = course.request(student, "DELETE", "/api/v1/users/me", json={"password": PASSWORD})
    assert erased.status_code == 204, erased.text
    entries = course.grading(course.teacher, aid)["entries"]
    assert course.user_ids[0] not in {e["user_id"] for e in entries} or all(
        e["versions"] == 0 and e["score"] is None
        for e in entries
        if e["user_id"] == course.user_ids[0]
    )
