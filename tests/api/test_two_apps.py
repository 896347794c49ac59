"""Two apps in one process keep their own registries: personal-data sections, recording
erasure, revocation hooks and course events belong to the app, not to a module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from lms.rooms.recording_data import RecordingErasure
from persistence.models import User
from server import create_app
from settings import Settings

PASSWORD = "correct-horse-battery-staple"
SECTIONS = [
    "cohorts",
    "account",
    "audit_events",
    "rooms",
    "recordings",
    "courses",
    "content",
    "quizzes",
    "webhook_endpoints",
    "notifications",
    "files",
    "assignments",
    "gradebook",
    "workshops",
    "payments",
    "labs",
]


def build(data_dir: Path) -> FastAPI:
    return create_app(Settings(data_dir=data_dir, redis_url=None, secret_key=""))


@pytest.fixture
def apps(tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps, each on its own data directory, both started (lifespans run)."""
    with (
        TestClient(build(tmp_path / "one")) as one,
        TestClient(build(tmp_path / "two")) as two,
    ):
        yield one, two


def sign_in(client: TestClient, email: str) -> dict[str, str]:
    """Register ``email`` on ``client``'s app; return its bearer header."""
    body = {"email": email, "password": PASSWORD, "name": "Ada"}
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    form = {"username": email, "password": PASSWORD, "grant_type": "password"}
    token = client.post("/api/v1/auth/token", data=form).json()["access_token"]
    return {"authorization": f"Bearer {token}"}


def test_each_app_has_its_own_registries(apps: tuple[TestClient, TestClient]) -> None:
    one, two = (client.app.state for client in apps)  # type: ignore[attr-defined]
    for name in ("personal_data", "revoked_hooks", "course_events"):
        assert getattr(one, name) is not getattr(two, name), name
    assert list(one.personal_data.exporters) == list(two.personal_data.exporters) == SECTIONS
    erasers = one.personal_data.erasers["recordings"], two.personal_data.erasers["recordings"]
    assert all(isinstance(e, RecordingErasure) for e in erasers)
    assert [e.directory for e in erasers] == [
        one.settings.resolved_recordings_dir,
        two.settings.resolved_recordings_dir,
    ]
    assert erasers[0].directory != erasers[1].directory


def test_a_revocation_tells_only_its_own_app(apps: tuple[TestClient, TestClient]) -> None:
    one, two = apps
    told: dict[str, list[str]] = {"one": [], "two": []}
    for name, client in (("one", one), ("two", two)):

        def hook(_session: AsyncSession, user: User, name: str = name) -> None:
            told[name].append(user.email)

        client.app.state.revoked_hooks.on_revoked("probe", hook)  # type: ignore[attr-defined]
    headers = sign_in(two, "ada@example.org")
    sign_in(one, "ada@example.org")  # the same email on the other app: another account
    logout = two.post("/api/v1/auth/logout", json={"everywhere": True}, headers=headers)
    assert logout.status_code == 204
    assert told == {"one": [], "two": ["ada@example.org"]}


def test_exports_come_from_each_apps_own_sections(apps: tuple[TestClient, TestClient]) -> None:
    for client in apps:
        headers = sign_in(client, "grace@example.org")
        export = client.get("/api/v1/users/me/export", headers=headers)
        assert export.status_code == 200
        assert set(SECTIONS) <= set(export.json())
        assert export.json()["account"]["profile"]["email"] == "grace@example.org"
