"""Courses: creation, catalogue, course roles (instructor, TA, student, observer), roster."""

from __future__ import annotations

import uuid

import pytest

from kits.nodes import Node

pytestmark = pytest.mark.postgres


def _code() -> str:
    return f"C-{uuid.uuid4().hex[:8]}"


def _course(node: Node, token: str, **fields: object) -> dict[str, object]:
    with node.client(token) as client:
        response = client.post(
            "/api/v1/courses", json={"code": _code(), "title": "Algebra I", **fields}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


def test_instructor_creates_and_teaches(node: Node) -> None:
    _, teacher = node.register("instructor")
    course = _course(node, teacher, description="Linear equations")
    assert course["my_role"] == "instructor"
    assert course["status"] == "draft"
    with node.client(teacher) as client:
        mine = client.get("/api/v1/courses").json()
        assert [c["id"] for c in mine["items"]] == [course["id"]]
        roster = client.get(f"/api/v1/courses/{course['id']}/enrollments").json()
        assert [r["role"] for r in roster] == ["instructor"]
        assert roster[0]["lti_role"].endswith("#Instructor")


def test_students_cannot_create_and_codes_are_unique(node: Node) -> None:
    _, student = node.register()
    _, teacher = node.register("instructor")
    with node.client(student) as client:
        denied = client.post("/api/v1/courses", json={"code": _code(), "title": "X"})
        assert denied.status_code == 403
    code = _code()
    _course(node, teacher, code=code)
    with node.client(teacher) as client:
        again = client.post("/api/v1/courses", json={"code": code, "title": "Y"})
        assert again.status_code == 409
        bad = client.post("/api/v1/courses", json={"code": "has spaces", "title": "Y"})
        assert bad.status_code == 422


def test_course_roles_decide_what_members_may_do(node: Node) -> None:
    _, teacher = node.register("instructor")
    ta_email, ta = node.register()
    student_email, student = node.register()
    _, outsider = node.register()
    course = _course(node, teacher)
    url = f"/api/v1/courses/{course['id']}"
    with node.client(teacher) as client:
        for email, role in ((ta_email, "ta"), (student_email, "student")):
            enrolled = client.post(f"{url}/enrollments", json={"email": email, "role": role})
            assert enrolled.status_code == 201, enrolled.text
    with node.client(ta) as client:
        assert client.get(url).json()["my_role"] == "ta"
        assert client.get(f"{url}/enrollments").status_code == 200
        assert client.patch(url, json={"title": "Mine now"}).status_code == 403
        enroll = client.post(f"{url}/enrollments", json={"email": ta_email, "role": "instructor"})
        assert enroll.status_code == 403
    with node.client(student) as client:
        assert client.get(url).json()["my_role"] == "student"
        assert client.get(f"{url}/enrollments").status_code == 403
        assert client.patch(url, json={"status": "archived"}).status_code == 403
    with node.client(outsider) as client:
        assert client.get(url).status_code == 404  # a draft is invisible to outsiders
    with node.client(teacher) as client:
        assert client.patch(url, json={"status": "published"}).json()["status"] == "published"
    with node.client(outsider) as client:
        assert client.get(url).json()["my_role"] is None
        catalog = client.get("/api/v1/courses", params={"scope": "catalog"}).json()
        assert course["id"] in [c["id"] for c in catalog["items"]]
        assert client.get("/api/v1/courses").json()["items"] == []


def test_a_course_keeps_an_instructor(node: Node) -> None:
    teacher_email, teacher = node.register("instructor")
    course = _course(node, teacher)
    teacher_id = node.user_id(teacher_email)
    url = f"/api/v1/courses/{course['id']}/enrollments"
    with node.client(teacher) as client:
        assert client.delete(f"{url}/{teacher_id}").status_code == 409
        demote = client.post(url, json={"user_id": teacher_id, "role": "student"})
        assert demote.status_code == 409
        assert client.post(url, json={"user_id": str(uuid.uuid4())}).status_code == 404
        assert client.post(url, json={"role": "student"}).status_code == 422


def test_unenroll_removes_access(node: Node) -> None:
    _, teacher = node.register("instructor")
    email, student = node.register()
    course = _course(node, teacher)
    url = f"/api/v1/courses/{course['id']}"
    with node.client(teacher) as client:
        client.post(f"{url}/enrollments", json={"email": email})
    with node.client(student) as client:
        assert client.get(url).status_code == 200
    with node.client(teacher) as client:
        assert client.delete(f"{url}/enrollments/{node.user_id(email)}").status_code == 204
    with node.client(student) as client:
        assert client.get(url).status_code == 404


def test_course_rooms_admit_the_course_people_by_role(node: Node) -> None:
    _, teacher = node.register("instructor")
    ta_email, ta = node.register()
    student_email, student = node.register()
    _, outsider = node.register()
    course = _course(node, teacher)
    with node.client(teacher) as client:
        for email, role in ((ta_email, "ta"), (student_email, "student")):
            client.post(
                f"/api/v1/courses/{course['id']}/enrollments", json={"email": email, "role": role}
            )
        created = client.post(
            "/api/v1/rooms", json={"title": "Lecture 1", "course_id": course["id"]}
        )
        assert created.status_code == 201, created.text
        room = created.json()["id"]
    with node.client(student) as client:
        joined = client.post(f"/api/v1/rooms/{room}/join")
        assert joined.status_code == 200
        assert joined.json()["role"] == "participant"
        assert room in [r["id"] for r in client.get("/api/v1/rooms").json()["items"]]
        # Students cannot open rooms in the course.
        denied = client.post("/api/v1/rooms", json={"title": "Mine", "course_id": course["id"]})
        assert denied.status_code == 403
    with node.client(ta) as client:
        assert client.post(f"/api/v1/rooms/{room}/join").json()["role"] == "co-host"
    with node.client(outsider) as client:
        assert client.post(f"/api/v1/rooms/{room}/join").status_code == 404
