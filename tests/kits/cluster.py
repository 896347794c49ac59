"""Nodes sharing one PostgreSQL database and one Redis, for the multi-node tests.

(Not a conftest.py: other suites import `conftest` by name, and a second one would shadow it.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis as redis_client

from kits.nodes import Node
from kits.redis_server import RedisServer, redis_server_binary
from kits.servers import IN_CI, LiveServer, PostgresServer
from media.placement import room_key


def require_redis() -> None:
    """Skip without redis-server, except under CI where it must be installed."""
    if redis_server_binary() is None:
        if IN_CI:
            pytest.fail("redis-server is required under CI")
        pytest.skip("redis-server is not installed")


def private_redis() -> Iterator[RedisServer]:
    """A Redis of the test's own on a free port; fixtures ``yield from`` it."""
    require_redis()
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Cluster:
    """Nodes sharing one database and one Redis."""

    nodes: list[Node]
    env: dict[str, str]
    base: Path

    def add_node(self, name: str) -> Node:
        server = LiveServer(data_dir=self.base / name, env=self.env).start()
        node = Node(server, "postgres", self.env["LIVECLASS_DATABASE_URL"])
        if self.nodes:
            node._admin_token = self.nodes[0]._admin_token
        self.nodes.append(node)
        return node


@contextmanager
def cluster_of(
    names: list[str],
    redis: RedisServer,
    pg_server: PostgresServer,
    base: Path,
    **env: str,
) -> Iterator[Cluster]:
    """Nodes `names` on a fresh database and `redis`, stopped (and the database dropped) after."""
    url = pg_server.create_database(migrated=True)
    settings = {
        "LIVECLASS_DATABASE_URL": url,
        "LIVECLASS_REDIS_URL": redis.url,
        "LIVECLASS_SECRET_KEY": "c" * 48,
        "LIVECLASS_LOGIN_MAX_FAILURES_PER_IP": "10000",
        **env,
    }
    found = Cluster([], settings, base)
    try:
        for name in names:
            found.add_node(name)
        yield found
    finally:
        for node in found.nodes:
            node.server.stop()
        pg_server.drop_database(url)


MEDIA_NODES = {"a": "1", "b": "1", "owner": "100"}  # node name -> media placement capacity


@contextmanager
def media_cluster(
    redis: RedisServer, pg_server: PostgresServer, base: Path, **env: str
) -> Iterator[Cluster]:
    """Nodes a, b and owner (``node-<name>``); owner's far larger capacity draws every room."""
    with cluster_of([], redis, pg_server, base, **env) as cluster:
        shared = cluster.env
        for name, capacity in MEDIA_NODES.items():
            cluster.env = {
                **shared,
                "LIVECLASS_NODE_ID": f"node-{name}",
                "LIVECLASS_MEDIA_PLACEMENT_CAPACITY": capacity,
            }
            cluster.add_node(name)
        cluster.env = shared
        yield cluster


def placed(redis: RedisServer, room_id: str) -> str | None:
    """The node Redis records as the owner of the room's media."""
    with redis_client.Redis.from_url(redis.url) as client:
        found = client.get(room_key(room_id))
    return found.decode() if isinstance(found, bytes) else None
