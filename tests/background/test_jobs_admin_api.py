"""The admin jobs API on a live node (SQLite and PostgreSQL) running jobs embedded: a dead
letter is listed, inspected, retried, discarded; a running job is cancelled; every change
is audited; bad input and callers get problem documents; /metrics shows the jobs."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from jobs.queue import enqueue
from kits import jobs as jobkit
from kits.jobs import Sessions
from kits.nodes import Node, start_node
from kits.servers import ROOT
from kits.waiting import eventually
from persistence.engine import create_engine, create_sessionmaker
from persistence.models.base import utcnow

API = "/api/v1/admin/jobs"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def jobs_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node running the jobkit job types embedded, with short leases."""
    yield from start_node(
        tmp_path_factory.mktemp("jobs"),
        request.param,
        request,
        LIVECLASS_JOBS_MODULES="kits.jobs",
        LIVECLASS_JOBS_LEASE_SECONDS="2",
        PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
    )


@pytest.fixture(scope="module")
async def node_engine(jobs_node: Node) -> AsyncIterator[AsyncEngine]:
    """An engine on the node's own database (to enqueue as a domain would)."""
    url = jobs_node.database_url or (
        f"sqlite+aiosqlite:///{jobs_node.server.data_dir.resolve() / 'liveclass.db'}"
    )
    engine = create_engine(url, pool_size=2)
    await jobkit.create_tables(engine)
    yield engine
    await engine.dispose()


async def add(sessions: Sessions, job: object, args: dict[str, object], **options: int) -> int:
    """Enqueue a job in the node's database; return its id."""
    async with sessions() as session:
        row = await enqueue(session, job, args, **options)  # type: ignore[arg-type]
        await session.commit()
        return row.id


def state(client: httpx.Client, job_id: int) -> str | None:
    """The job's state through the API (None: gone)."""
    response = client.get(f"{API}/{job_id}")
    return str(response.json()["state"]) if response.status_code == 200 else None


async def wait_state(client: httpx.Client, job_id: int, wanted: str) -> None:
    """Wait until the API shows the job in ``wanted``."""

    async def reached() -> bool:
        return state(client, job_id) == wanted

    await eventually(reached, what=f"job {job_id} to be {wanted}")


def assert_problem(response: httpx.Response, status: int) -> None:
    """A problem document with ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["status"] == status


async def test_a_dead_letter_is_listed_inspected_retried_and_discarded(
    jobs_node: Node, node_engine: AsyncEngine
) -> None:
    sessions = create_sessionmaker(node_engine)
    job_id = await add(sessions, jobkit.FAIL, {"key": "admin-dead"}, max_attempts=1)
    with jobs_node.client(jobs_node.admin_token()) as client:
        await wait_state(client, job_id, "dead")
        listed = client.get(API, params={"state": "dead"}).json()["items"]
        assert job_id in [item["id"] for item in listed]
        detail = client.get(f"{API}/{job_id}").json()
        assert detail["attempts"] == 1 and detail["args"] == {"key": "admin-dead"}
        assert "always fails" in detail["last_error"]

        retried = client.post(f"{API}/{job_id}/retry")
        assert retried.status_code == 200, retried.text
        assert retried.json()["attempts"] == 0

        async def failed_again() -> bool:
            value = client.get(f"{API}/{job_id}").json()
            return value["state"] == "dead" and value["attempts"] == 1

        await eventually(failed_again, what="the retried job to fail again")
        assert_problem(client.post(f"{API}/{job_id}/cancel"), 409)
        assert client.delete(f"{API}/{job_id}").status_code == 204
        assert_problem(client.get(f"{API}/{job_id}"), 404)
        assert_problem(client.post(f"{API}/{job_id}/retry"), 404)
        actions = [
            (e["action"], e["target_id"])
            for e in client.get("/api/v1/audit-events", params={"action_prefix": "job."}).json()[
                "items"
            ]
        ]
        assert ("job.retry", str(job_id)) in actions
        assert ("job.discard", str(job_id)) in actions


async def test_a_running_job_shows_progress_and_is_cancelled(
    jobs_node: Node, node_engine: AsyncEngine
) -> None:
    sessions = create_sessionmaker(node_engine)
    job_id = await add(sessions, jobkit.SLOW, {"key": "admin-slow"})
    with jobs_node.client(jobs_node.admin_token()) as client:

        async def progressing() -> bool:
            job = client.get(f"{API}/{job_id}").json()
            return job["state"] == "running" and bool(job["progress"])

        await eventually(progressing, what="the slow job to report progress")
        assert_problem(client.post(f"{API}/{job_id}/retry"), 409)
        assert_problem(client.delete(f"{API}/{job_id}"), 409)
        asked = client.post(f"{API}/{job_id}/cancel")
        assert asked.status_code == 200 and asked.json()["cancel_requested"] is True
        await wait_state(client, job_id, "cancelled")
        # A queued job (due tomorrow) is cancelled at once.
        async with sessions() as session:
            far = await enqueue(
                session, jobkit.EFFECT, {"key": "never"}, run_at=utcnow() + timedelta(days=1)
            )
            await session.commit()
        cancelled = client.post(f"{API}/{far.id}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        actions = {
            e["action"]
            for e in client.get("/api/v1/audit-events", params={"action": "job.cancel"}).json()[
                "items"
            ]
        }
        assert actions == {"job.cancel"}


async def test_the_list_pages_with_an_opaque_cursor(
    jobs_node: Node, node_engine: AsyncEngine
) -> None:
    sessions = create_sessionmaker(node_engine)
    ids = [await add(sessions, jobkit.FAIL, {"key": f"page-{i}"}, max_attempts=1) for i in range(3)]
    with jobs_node.client(jobs_node.admin_token()) as client:
        for job_id in ids:
            await wait_state(client, job_id, "dead")
        seen: list[int] = []
        params: dict[str, str | int] = {"state": "dead", "name": "test.fail", "limit": 2}
        while True:
            page = client.get(API, params=params)
            assert page.status_code == 200
            body = page.json()
            seen += [item["id"] for item in body["items"]]
            if body["next"] is None:
                assert "link" not in page.headers
                break
            assert 'rel="next"' in page.headers["link"]
            params["cursor"] = body["next"]
        assert seen == sorted(seen) and set(ids) <= set(seen)


def test_bad_callers_and_bad_input_get_problems(jobs_node: Node) -> None:
    with jobs_node.client() as anonymous:
        assert_problem(anonymous.get(API), 401)
        assert_problem(anonymous.post(f"{API}/1/retry"), 401)
    _email, student = jobs_node.register("student")
    with jobs_node.client(student) as client:
        assert_problem(client.get(API), 403)
        assert_problem(client.delete(f"{API}/1"), 403)
    with jobs_node.client(jobs_node.admin_token()) as admin:
        assert_problem(admin.get(f"{API}/abc"), 422)
        assert_problem(admin.get(f"{API}/0"), 422)
        assert_problem(admin.get(f"{API}/{2**63}"), 422)
        assert_problem(admin.get(API, params={"cursor": "not-ours"}), 422)
        assert_problem(admin.get(API, params={"state": "succeeded"}), 422)
        assert_problem(admin.get(API, params={"limit": 0}), 422)
        assert_problem(admin.get(f"{API}/987654321"), 404)
        assert_problem(admin.post(f"{API}/987654321/cancel"), 404)


async def test_metrics_show_the_queue_and_the_runs(jobs_node: Node) -> None:
    with jobs_node.client() as client:

        async def shown() -> bool:
            text = client.get("/metrics").text
            return (
                'liveclass_jobs{kind="dead"}' in text
                and 'liveclass_job_runs_total{job="test.fail",outcome="dead"}' in text
                and "liveclass_job_duration_seconds_bucket" in text
                and 'liveclass_jobs{kind="oldest_queued_age_seconds"}' in text
            )

        await eventually(shown, what="the job metrics")
