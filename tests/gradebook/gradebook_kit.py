"""What the gradebook tests share: a course on a live node with an instructor, a TA, three
students and an outsider, API calls made as each, and sessions on the node's database to
call the gradebook's service interface as the other assessment domains do."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from kits.nodes import Node


class Course:
    """A published course with its staff, learners and someone outside it."""

    def __init__(self, node: Node) -> None:
        self.node = node
        _, self.teacher = node.register("instructor")
        ta_email, self.ta = node.register()
        self.ta_email = ta_email
        emails_tokens = [node.register() for _ in range(3)]
        _, self.outsider = node.register()
        code = f"G-{uuid.uuid4().hex[:8]}"
        body = {"code": code, "title": "Statistics"}
        self.id = self.call(self.teacher, "POST", "/api/v1/courses", json=body)["id"]
        self.call(self.teacher, "PATCH", f"/api/v1/courses/{self.id}", json={"status": "published"})
        self.students: list[str] = []
        self.emails = [e for e, _ in emails_tokens]
        self.student_ids: list[uuid.UUID] = []
        for email, role in ((ta_email, "ta"), *((e, "student") for e, _ in emails_tokens)):
            self.call(
                self.teacher,
                "POST",
                f"/api/v1/courses/{self.id}/enrollments",
                json={"email": email, "role": role},
            )
        for email, token in emails_tokens:
            self.students.append(token)
            self.student_ids.append(uuid.UUID(node.user_id(email)))
        self.teacher_id = uuid.UUID(self.call(self.teacher, "GET", "/api/v1/users/me")["id"])
        self.course_id = uuid.UUID(self.id)

    def request(self, token: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
        with self.node.client(token) as client:
            return client.request(method, path, **kw)

    def call(self, token: str, method: str, path: str, **kw: Any) -> Any:
        response = self.request(token, method, path, **kw)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    @property
    def base(self) -> str:
        """The gradebook's API path."""
        return f"/api/v1/courses/{self.id}/gradebook"

    def column(self, title: str, points: str, **fields: Any) -> dict[str, Any]:
        """A manual column added by the instructor."""
        body = {"title": title, "points_possible": points, **fields}
        return dict(self.call(self.teacher, "POST", f"{self.base}/columns", json=body))

    def grade(self, column_id: str, student: int, token: str | None = None, **body: Any) -> Any:
        """Set a cell as ``token`` (the instructor by default)."""
        path = f"{self.base}/columns/{column_id}/grades/{self.student_ids[student]}"
        return self.call(token or self.teacher, "PUT", path, json=body)
