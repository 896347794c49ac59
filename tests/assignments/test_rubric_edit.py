"""Editing a rubric (PUT /api/v1/rubrics/{id}), on SQLite and PostgreSQL: the whole rubric is
replaced (names, descriptions, order, levels), grades already given keep their points and
the answer says how many there are, and the change is audited. Bad input is refused with a
problem document and changes nothing: oversize names, too many criteria or levels,
negative or huge points, malformed and deeply nested JSON, another course's instructor,
a TA and a student."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from conftest import Course

pytestmark = pytest.mark.postgres


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return dict(response.json())


def _edited(rubric: dict[str, Any]) -> dict[str, Any]:
    """The rubric with its first criterion renamed, a level of the second removed, a new
    criterion first and descriptions added."""
    thesis, style = rubric["criteria"]
    return {
        "title": "Essay rubric, 2nd edition",
        "criteria": [
            {
                "id": "sources",
                "description": "Sources",
                "long_description": "Cites at least two sources.",
                "levels": [
                    {"id": "many", "title": "Several", "points": "5", "description": "3+"},
                    {"id": "few", "title": "Few", "points": "2.5"},
                ],
            },
            {**thesis, "description": "Thesis statement"},
            {**style, "levels": [style["levels"][0]]},
        ],
    }


def test_an_instructor_edits_a_rubric_used_for_grades_which_keep_their_points(
    course: Course,
) -> None:
    rubric = course.rubric()
    assert rubric["graded"] == 0
    aid = course.assignment(rubric_id=rubric["id"], points="10")["id"]
    course.submit(course.students[0], aid, text="An essay")
    entries = course.grading(course.teacher, aid)["entries"]
    key = next(e["key"] for e in entries if e["user_id"] == course.user_ids[0])
    graded = course.call(
        course.ta,
        "PUT",
        f"/api/v1/assignments/{aid}/grading/{key}",
        json={"rubric": {"thesis": "part", "style": "poor"}},
    )
    assert graded["grade"]["score"] == "4.00"

    saved = course.call(
        course.teacher, "PUT", f"/api/v1/rubrics/{rubric['id']}", json=_edited(rubric)
    )
    assert saved["title"] == "Essay rubric, 2nd edition"
    assert [c["id"] for c in saved["criteria"]] == ["sources", "thesis", "style"]
    assert saved["criteria"][0]["long_description"] == "Cites at least two sources."
    assert saved["criteria"][0]["levels"][0]["description"] == "3+"
    assert saved["criteria"][1]["description"] == "Thesis statement"
    assert [lv["id"] for lv in saved["criteria"][2]["levels"]] == ["good"]
    assert saved["points"] == "15.00"  # 5 + 6 + 4
    assert saved["graded"] == 1
    listed = course.call(course.ta, "GET", f"/api/v1/courses/{course.id}/rubrics")["items"]
    assert listed == [saved]

    # The grade given before keeps its points and its levels until graded again ...
    detail = course.call(course.teacher, "GET", f"/api/v1/assignments/{aid}/grading/{key}")
    assert detail["grade"]["score"] == "4.00"
    assert detail["grade"]["rubric"] == {"thesis": "part", "style": "poor"}
    # ... where a level the rubric lost is refused and the new criterion counts.
    path = f"/api/v1/assignments/{aid}/grading/{key}"
    gone = {"rubric": {"thesis": "part", "style": "poor"}}
    _problem(course.request(course.ta, "PUT", path, json=gone), 422)
    again = {"rubric": {"sources": "few", "thesis": "full", "style": "good"}}
    assert course.call(course.ta, "PUT", path, json=again)["grade"]["raw_score"] == "12.50"

    # Audited with the points before and after and the grades it had been used for.
    audit = course.call(
        course.node.admin_token(),
        "GET",
        "/api/v1/audit-events",
        params={"action": "rubric.update", "target_id": rubric["id"]},
    )
    [record] = audit["items"]
    logged = record["detail"]
    assert (logged["points_before"], logged["points_after"], logged["graded"]) == (
        "10.00",
        "15.00",
        1,
    )


def test_bad_rubric_edits_are_refused_and_change_nothing(course: Course) -> None:
    rubric = course.rubric()
    path = f"/api/v1/rubrics/{rubric['id']}"
    thesis = rubric["criteria"][0]
    level = {"id": "a", "title": "A", "points": "1"}

    def put(body: Any, token: str | None = None, **kw: Any) -> httpx.Response:
        return course.request(token or course.teacher, "PUT", path, json=body, **kw)

    def with_criteria(criteria: list[dict[str, Any]]) -> dict[str, Any]:
        return {"title": "r", "criteria": criteria}

    def crit(i: int, **fields: Any) -> dict[str, Any]:
        return {"id": f"c{i}", "description": "d", "levels": [level], **fields}

    bad = [
        {"title": "x" * 201, "criteria": [thesis]},
        {"title": "   ", "criteria": [thesis]},
        with_criteria([crit(0, description="x" * 1001)]),
        with_criteria([crit(0, long_description="x" * 2001)]),
        with_criteria([crit(0, levels=[{**level, "title": "x" * 201}])]),
        with_criteria([crit(0, levels=[{**level, "description": "x" * 1001}])]),
        with_criteria([crit(0, levels=[{**level, "id": "../etc"}])]),
        with_criteria([crit(i) for i in range(51)]),
        with_criteria([crit(0, levels=[{**level, "id": f"l{j}"} for j in range(11)])]),
        with_criteria([crit(0, levels=[{**level, "points": "-1"}])]),
        with_criteria([crit(0, levels=[{**level, "points": "100000.01"}])]),
        with_criteria([crit(0, levels=[{**level, "points": "1e308"}])]),
        with_criteria([crit(0, levels=[{**level, "points": "NaN"}])]),
        with_criteria([crit(0, levels=[{**level, "points": "0.001"}])]),
        with_criteria([crit(0, extra=True)]),
        with_criteria([crit(0), crit(0)]),  # an id twice
        with_criteria([]),
        {"title": "r", "criteria": "x"},
        {"title": "r"},
    ]
    for body in bad:
        _problem(put(body), 422)
    nested: Any = [level]
    for _ in range(300):
        nested = {"levels": nested}
    _problem(put(with_criteria([crit(0, levels=nested)])), 422)
    garbage = course.request(
        course.teacher,
        "PUT",
        path,
        content=b'{"title": "r", "criteria": [',
        headers={"Content-Type": "application/json"},
    )
    _problem(garbage, 422)
    # The most that is allowed goes through: 50 criteria of 10 levels.
    most = with_criteria(
        [
            crit(i, levels=[{**level, "id": f"l{j}", "points": "100000"} for j in range(10)])
            for i in range(50)
        ]
    )
    assert course.call(course.teacher, "PUT", path, json=most)["points"] == "5000000.00"
    course.call(
        course.teacher, "PUT", path, json={"title": rubric["title"], "criteria": rubric["criteria"]}
    )

    # Another course's instructor, the course's TA, a student and an outsider may not.
    other = Course(course.node)
    good = {"title": "Mine now", "criteria": [thesis]}
    for token in (other.teacher, course.ta, course.students[0], course.outsider):
        _problem(put(good, token), 403)
    _problem(
        course.request(
            course.teacher, "PUT", "/api/v1/rubrics/00000000-0000-0000-0000-000000000000", json=good
        ),
        404,
    )
    # An instructor of this course may not move a rubric to their own course by editing it.
    theirs = other.rubric()
    _problem(
        course.request(course.teacher, "PUT", f"/api/v1/rubrics/{theirs['id']}", json=good), 403
    )
    kept = other.call(other.teacher, "GET", f"/api/v1/courses/{other.id}/rubrics")["items"]
    assert kept == [theirs]
    listed = course.call(course.teacher, "GET", f"/api/v1/courses/{course.id}/rubrics")["items"]
    assert listed == [rubric]
