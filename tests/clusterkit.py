"""Nodes sharing one PostgreSQL database and one Redis, for the multi-node tests.

(Not a conftest.py: other suites import `conftest` by name, and a second one would shadow it.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import Node
from liveserver import IN_CI, LiveServer, PostgresServer
from redisserver import RedisServer, redis_server_binary


def require_redis() -> None:
    """Skip without redis-server, except under CI where it must be installed."""
    if redis_server_binary() is None:
        if IN_CI:
            pytest.fail("redis-server is required under CI")
        pytest.skip("redis-server is not installed")


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
    url = pg_server.create_database()
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
