"""The submission a student saw confirmed is never lost and never made twice: the same
Idempotency-Key sent at once from many connections makes one version; a group's members
handing in at the same moment get consecutive versions; and a node killed with SIGKILL
while students hand in keeps every submission it confirmed (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Course

from kits.nodes import Node, database_url
from kits.servers import LiveServer, wait_for

pytestmark = pytest.mark.postgres
PARALLEL = 8
KILL_AFTER = 24


def test_one_key_sent_at_once_makes_one_version(course: Course) -> None:
    aid = course.assignment()["id"]
    student = course.students[0]

    def send(_: int) -> httpx.Response:
        return course.request(
            student,
            "POST",
            f"/api/v1/assignments/{aid}/submissions",
            json={"text": "once"},
            headers={"Idempotency-Key": "same-key"},
        )

    with ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(send, range(PARALLEL)))
    assert {a.status_code for a in answers} <= {200, 201}, [a.text for a in answers]
    assert sorted(a.status_code for a in answers).count(201) == 1
    assert len({a.json()["id"] for a in answers}) == 1
    mine = course.call(student, "GET", f"/api/v1/assignments/{aid}/submissions/mine")
    assert [s["version"] for s in mine["submissions"]] == [1]


def test_a_groups_members_handing_in_together_get_consecutive_versions(course: Course) -> None:
    group = {"name": "All", "members": course.user_ids}
    made = course.call(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/group-sets",
        json={"name": "One group", "groups": [group]},
    )
    aid = course.assignment(group_set_id=made["id"])["id"]
    senders = [course.students[i % len(course.students)] for i in range(PARALLEL)]

    def send(token: str) -> httpx.Response:
        return course.submit(token, aid, text=f"from {uuid.uuid4()}")

    with ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(send, senders))
    assert all(a.status_code == 201 for a in answers), [
        (a.status_code, a.text[:300]) for a in answers if a.status_code != 201
    ]
    versions = sorted(a.json()["version"] for a in answers)
    assert versions == list(range(1, PARALLEL + 1))
    mine = course.call(course.students[2], "GET", f"/api/v1/assignments/{aid}/submissions/mine")
    assert len(mine["submissions"]) == PARALLEL


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_loses_no_confirmed_submission(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = database_url(backend, request)
    env = {"LIVECLASS_SECRET_KEY": "s" * 48}
    if url:
        env["LIVECLASS_DATABASE_URL"] = url
    server = LiveServer(data_dir=tmp_path / "data", env=env).start()
    course = Course(Node(server, backend, url))
    aid = course.assignment()["id"]
    confirmed: list[tuple[str, str, str]] = []  # (student token, key, submission id)
    lock = threading.Lock()
    stop = threading.Event()
    failures: list[str] = []

    def hand_in(token: str) -> None:
        with httpx.Client(base_url=server.url, timeout=10.0) as client:
            client.headers["Authorization"] = f"Bearer {token}"
            while not stop.is_set():
                key = uuid.uuid4().hex
                try:
                    answer = client.post(
                        f"/api/v1/assignments/{aid}/submissions",
                        json={"text": f"draft {key}"},
                        headers={"Idempotency-Key": key},
                    )
                except httpx.HTTPError as exc:
                    failures.append(type(exc).__name__)
                    continue
                if answer.status_code == 201:
                    with lock:
                        confirmed.append((token, key, answer.json()["id"]))

    writers = [threading.Thread(target=hand_in, args=(t,)) for t in course.students]
    for writer in writers:
        writer.start()
    try:
        wait_for(lambda: len(confirmed) >= KILL_AFTER, timeout=120, what="submissions")
        server.kill()
        wait_for(lambda: len(failures) >= len(writers), timeout=30, what="failed requests")
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert server.process is not None and server.process.returncode == -9
    restarted = LiveServer(data_dir=tmp_path / "data", env=env).start()
    try:
        stored: dict[str, set[str]] = {}
        with httpx.Client(base_url=restarted.url, timeout=30.0) as client:
            for token in course.students:
                mine: Any = client.get(
                    f"/api/v1/assignments/{aid}/submissions/mine",
                    headers={"Authorization": f"Bearer {token}"},
                ).json()
                stored[token] = {s["id"] for s in mine["submissions"]}
                versions = [s["version"] for s in mine["submissions"]]
                assert versions == sorted(versions, reverse=True)
                assert len(set(versions)) == len(versions)
            for token, _key, submission_id in confirmed:
                assert submission_id in stored[token]
            # A confirmed key sent again answers the version it made.
            token, key, submission_id = confirmed[-1]
            again = client.post(
                f"/api/v1/assignments/{aid}/submissions",
                json={"text": "retry"},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
            )
            assert again.status_code == 200 and again.json()["id"] == submission_id
    finally:
        restarted.stop()
