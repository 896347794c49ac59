"""What the assignments tests share: a course on a live node (SQLite and PostgreSQL) with an
instructor, a TA, three students with distinct names and an outsider, and helpers for the
REST calls and tus uploads a student makes for a file submission."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest

from kits.nodes import Node

TUS = {"Tus-Resumable": "1.0.0"}


class Course:
    """A published course with its people; ``call`` asserts success, ``request`` does not."""

    def __init__(self, node: Node) -> None:
        self.node = node
        _, self.teacher = node.register("instructor")
        ta_email, self.ta = node.register()
        self.emails: dict[str, str] = {}
        self.students: list[str] = []
        self.names: list[str] = []
        for _ in range(3):
            email, token = node.register()
            name = f"Zed{uuid.uuid4().hex[:10]}"
            self.call(token, "PATCH", "/api/v1/users/me", json={"name": name})
            self.emails[token] = email
            self.students.append(token)
            self.names.append(name)
        _, self.outsider = node.register()
        code = f"A-{uuid.uuid4().hex[:8]}"
        created = self.call(
            self.teacher, "POST", "/api/v1/courses", json={"code": code, "title": "Essays"}
        )
        self.id = created["id"]
        self.call(self.teacher, "PATCH", f"/api/v1/courses/{self.id}", json={"status": "published"})
        self.enrol(ta_email, "ta")
        for token in self.students:
            self.enrol(self.emails[token], "student")
        self.user_ids = [self.me(t) for t in self.students]

    def enrol(self, email: str, role: str) -> None:
        body = {"email": email, "role": role}
        self.call(self.teacher, "POST", f"/api/v1/courses/{self.id}/enrollments", json=body)

    def me(self, token: str) -> str:
        return str(self.call(token, "GET", "/api/v1/users/me")["id"])

    def request(self, token: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
        with self.node.client(token) as client:
            return client.request(method, path, **kw)

    def call(self, token: str, method: str, path: str, **kw: Any) -> Any:
        response = self.request(token, method, path, **kw)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    def assignment(self, **fields: Any) -> dict[str, Any]:
        body = {"title": "Essay", "published": True, **fields}
        made = self.call(self.teacher, "POST", f"/api/v1/courses/{self.id}/assignments", json=body)
        return dict(made)

    def rubric(self) -> dict[str, Any]:
        body = {
            "title": "Essay rubric",
            "criteria": [
                {
                    "id": "thesis",
                    "description": "A clear thesis",
                    "levels": [
                        {"id": "full", "title": "Clear", "points": "6"},
                        {"id": "part", "title": "Vague", "points": "3"},
                        {"id": "none", "title": "Missing", "points": "0"},
                    ],
                },
                {
                    "id": "style",
                    "description": "Style",
                    "levels": [
                        {"id": "good", "title": "Good", "points": "4"},
                        {"id": "poor", "title": "Poor", "points": "1"},
                    ],
                },
            ],
        }
        return dict(
            self.call(self.teacher, "POST", f"/api/v1/courses/{self.id}/rubrics", json=body)
        )

    def submit(self, token: str, assignment_id: str, **body: Any) -> httpx.Response:
        return self.request(
            token, "POST", f"/api/v1/assignments/{assignment_id}/submissions", json=body
        )

    def start_upload(
        self, token: str, assignment_id: str | None, data: bytes, name: str
    ) -> httpx.Response:
        """A tus creation-with-upload of ``data`` into the course, naming the assignment."""
        pairs = {"filename": name, **({"assignment": assignment_id} if assignment_id else {})}
        meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())
        return self.request(
            token,
            "POST",
            f"/api/v1/courses/{self.id}/uploads",
            content=data,
            headers={
                **TUS,
                "Upload-Length": str(len(data)),
                "Upload-Metadata": meta,
                "Content-Type": "application/offset+octet-stream",
            },
        )

    def upload(self, token: str, assignment_id: str, data: bytes, name: str) -> int:
        """Upload a file for a submission; its id."""
        made = self.start_upload(token, assignment_id, data, name)
        assert made.status_code == 201, made.text
        return int(made.headers["Content-Location"].rsplit("/", 1)[1])

    def grading(self, token: str, assignment_id: str) -> dict[str, Any]:
        return dict(self.call(token, "GET", f"/api/v1/assignments/{assignment_id}/grading"))


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def course(node: Node) -> Course:
    return Course(node)
