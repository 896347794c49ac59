"""A lab across two liveclass nodes over one PostgreSQL and one Redis (issue 20): a learner
works on node A, the instructor watches the grid on node B.

Real processes: a private redis-server, a fresh database on the suite's PostgreSQL, two
nodes. The learner's workspace edits reach B's grid (B follows the workspace documents'
broker channels), their browser run and help request reach B's feed as staff signals, and
the instructor taking the request on B reaches the learner's feed on A; archiving the lab
on B closes the learner's feed on A (4004)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pycrdt
import pytest

from kits.cluster import Cluster, cluster_of, private_redis
from kits.labs import ADD, MAIN, Feed, LabCourse, main_of, open_mine
from kits.redis_server import RedisServer
from kits.servers import PostgresServer
from kits.yjs import RawClient

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    """A private Redis for this module."""
    yield from private_redis()


@pytest.fixture
def cluster(redis: RedisServer, pg_server: PostgresServer, tmp_path: Path) -> Iterator[Cluster]:
    """Two nodes on a fresh database and the module's Redis."""
    with cluster_of(["a", "b"], redis, pg_server, tmp_path) as found:
        yield found


def tile_of(message: dict[str, Any], user_id: str) -> dict[str, Any] | None:
    items = message.get("workspaces") or message.get("items") or []
    return next((t for t in items if t["user_id"] == user_id), None)


async def test_a_learner_on_a_and_the_instructors_grid_on_b(cluster: Cluster) -> None:
    a, b = cluster.nodes
    course = LabCourse(a)
    lab = course.started()
    lab_id, learner, me = lab["id"], course.learners[0], course.ids[0]
    grid = await Feed.open(course, lab_id, course.teacher, node=b)
    welcome = await grid.until(lambda m: m["type"] == "welcome")
    assert welcome["role"] == "staff" and len(welcome["workspaces"]) == 3
    # The learner types on A; B's grid shows the new first line.
    mine = await open_mine(course, lab, learner)
    assert main_of(mine) == ADD
    await mine.change(lambda d: d.get(MAIN, type=pycrdt.Text).insert(0, "# typed on A\n"))

    def typed(message: dict[str, Any]) -> bool:
        found = tile_of(message, me) if message["type"] == "workspaces" else None
        return found is not None and found["thumbnail"].startswith("# typed on A")

    await grid.until(typed)
    # A run in the browser and a help request on A: staff signals B's grid follows.
    course.call(learner, "POST", f"/api/v1/labs/{lab_id}/activity", json={"kind": "ran"})
    await grid.until(lambda m: m["type"] == "changed" and m["user_id"] == me)
    feed = await Feed.open(course, lab_id, learner)
    await feed.until(lambda m: m["type"] == "welcome")
    asked = course.call(
        learner, "POST", f"/api/v1/labs/{lab_id}/help", json={"step_id": "add", "note": "stuck"}
    )
    await grid.until(lambda m: m["type"] == "queue" and asked["id"] in m["open"])

    def helping(message: dict[str, Any]) -> bool:
        found = tile_of(message, me) if message["type"] == "workspaces" else None
        return found is not None and (found.get("help") or {}).get("id") == asked["id"]

    await grid.until(helping)
    # The instructor takes it on B: the learner's feed on A sees the queue empty, and their
    # own request is taken.
    with b.client(course.teacher) as client:
        taken = client.post(f"/api/v1/labs/{lab_id}/help/{asked['id']}/take")
    assert taken.status_code == 200, taken.text
    await feed.until(lambda m: m["type"] == "queue" and m["open"] == [])
    assert (
        course.call(learner, "GET", f"/api/v1/labs/{lab_id}/help/mine")["request"]["status"]
        == "taken"
    )
    # The instructor edits the learner's workspace from B; the learner on A sees it.
    with b.client(course.teacher) as client:
        editor = client.post(f"/api/v1/labs/{lab_id}/workspaces/{me}/editor").json()
    helper = await RawClient.open(b, editor["document"], editor["token"])
    await helper.until(lambda c: main_of(c).startswith("# typed on A"))
    await helper.change(lambda d: d.get(MAIN, type=pycrdt.Text).insert(0, "# from B\n"))
    await mine.until(lambda c: main_of(c).startswith("# from B\n# typed on A"))
    # Archived on B: the learner's feed on A closes with 4004.
    with b.client(course.teacher) as client:
        assert client.delete(f"/api/v1/labs/{lab_id}").status_code == 204
    for socket in (feed, grid):
        with pytest.raises(AssertionError, match="feed closed 4004"):
            await socket.until(lambda m: False)
    await helper.close()
    await mine.close()
