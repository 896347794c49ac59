"""Publishing a page with its editors on another node: every edit that node has taken in is
in the published HTML, and a node that cannot answer makes the publish a 503, not a
silent loss.

Two real nodes over one PostgreSQL and one Redis. Commits wait 100 ms (group commit delay),
so an edit node B has received is still queued there when node A is asked to publish.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kits.cluster import Cluster, cluster_of, private_redis
from kits.nodes import Node
from kits.redis_server import RedisServer
from kits.servers import PostgresServer
from kits.yjs import RawClient
from realtime.yjs.messages import SyncStep2, encode_sync_step1

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    """A private Redis for this module."""
    yield from private_redis()


@pytest.fixture
def cluster(redis: RedisServer, pg_server: PostgresServer, tmp_path: Path) -> Iterator[Cluster]:
    """Two nodes whose document writes wait before committing, and a short settle bound."""
    with cluster_of(
        ["a", "b"],
        redis,
        pg_server,
        tmp_path,
        LIVECLASS_GROUP_COMMIT_DELAY_MS="100",
        LIVECLASS_YJS_SETTLE_TIMEOUT_SECONDS="2",
    ) as found:
        yield found


def call(node: Node, token: str, method: str, path: str, **kw: Any) -> Any:
    with node.client(token) as client:
        response = client.request(method, path, **kw)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def new_page(node: Node) -> tuple[str, dict[str, Any]]:
    """An instructor's course with one page: (the instructor's token, the page)."""
    _, teacher = node.register("instructor")
    code = f"C-{uuid.uuid4().hex[:8]}"
    course = call(node, teacher, "POST", "/api/v1/courses", json={"code": code, "title": "Bio"})
    path = f"/api/v1/courses/{course['id']}/pages"
    return teacher, call(node, teacher, "POST", path, json={"title": "Cells"})


def _answers(client: RawClient) -> int:
    return sum(isinstance(m, SyncStep2) for m in client.messages)


async def taken_in(client: RawClient) -> None:
    """A sync round trip: once answered, the node has taken the edits sent before it in
    (their writes perhaps still queued), as the web app's Publish button makes sure."""
    seen = _answers(client)
    await client.send(encode_sync_step1(client.doc.get_state()))
    await client.until(lambda c: _answers(c) > seen)


async def test_publish_on_one_node_has_the_edits_another_node_took_in(cluster: Cluster) -> None:
    a, b = cluster.nodes
    teacher, page = new_page(a)
    editor = call(b, teacher, "POST", f"/api/v1/pages/{page['id']}/editor")
    client = await RawClient.open(b, editor["document"], editor["token"])
    try:
        for n in range(4):
            await client.insert(f"Line {n} written through B\n")
            await taken_in(client)
            published = call(a, teacher, "POST", f"/api/v1/pages/{page['id']}/publish")
            assert f"Line {n} written through B" in published["html"], published["html"]
        # The page read from B shows the same published version.
        again = call(b, teacher, "GET", f"/api/v1/pages/{page['id']}")
        assert again["html"] == published["html"]
    finally:
        await client.close()


async def test_a_holder_that_does_not_answer_makes_publish_a_503(cluster: Cluster) -> None:
    a, b = cluster.nodes
    teacher, page = new_page(a)
    editor = call(b, teacher, "POST", f"/api/v1/pages/{page['id']}/editor")
    client = await RawClient.open(b, editor["document"], editor["token"])
    await client.insert("Held by B\n")
    await taken_in(client)
    b.server.process.send_signal(signal.SIGSTOP)  # alive and subscribed, but silent
    try:
        with a.client(teacher) as http:
            refused = http.post(f"/api/v1/pages/{page['id']}/publish")
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "did not confirm" in refused.json()["detail"]
        assert call(a, teacher, "GET", f"/api/v1/pages/{page['id']}")["published_at"] is None
    finally:
        b.server.process.send_signal(signal.SIGCONT)
    published = call(a, teacher, "POST", f"/api/v1/pages/{page['id']}/publish")
    assert "Held by B" in published["html"]
    await client.close()
