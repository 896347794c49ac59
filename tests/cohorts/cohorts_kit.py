"""A course with modules, an instructor and a few learners, for the cohort tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from kits.nodes import Node

PROBLEM = "application/problem+json"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem document of a refused request with ``status``."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    return body


class Course:
    """A course with three published modules (two link items each) and its instructor."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.teacher_email, self.teacher = node.register("instructor")
        code = f"C-{uuid.uuid4().hex[:8]}"
        self.id = self.call(
            self.teacher, "POST", "/api/v1/courses", json={"code": code, "title": "Data 101"}
        )["id"]
        self.modules: list[dict[str, Any]] = []
        self.items: list[dict[str, Any]] = []
        for n in (1, 2, 3):
            module = self.call(
                self.teacher,
                "POST",
                f"/api/v1/courses/{self.id}/modules",
                json={"title": f"Week {n}", "published": True},
            )
            self.modules.append(module)
            for k in (1, 2):
                self.items.append(
                    self.call(
                        self.teacher,
                        "POST",
                        f"/api/v1/modules/{module['id']}/items",
                        json={
                            "kind": "link",
                            "title": f"Reading {n}.{k}",
                            "url": "https://example.org/",
                            "published": True,
                        },
                    )
                )

    def request(self, token: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
        with self.node.client(token) as client:
            return client.request(method, path, **kw)

    def call(self, token: str | None, method: str, path: str, **kw: Any) -> Any:
        response = self.request(token, method, path, **kw)
        assert response.status_code < 300, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    def cohort(self, **fields: Any) -> dict[str, Any]:
        body = {
            "name": "Spring",
            "time_zone": "Europe/Berlin",
            "start_date": "2026-01-05",
            "end_date": "2026-03-30",
            **fields,
        }
        created: dict[str, Any] = self.call(
            self.teacher, "POST", f"/api/v1/courses/{self.id}/cohorts", json=body
        )
        return created
