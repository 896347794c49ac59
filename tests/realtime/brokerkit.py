"""Helpers shared by the broker tests: a private Redis, broker factories, key prefixes, polling.

(Not a conftest.py: other suites import `conftest` by name, and a second one would shadow it.)
"""

from __future__ import annotations

import itertools
import os
import time
from typing import Any

import pytest

from kits.redis_server import RedisServer, redis_server_binary
from kits.servers import IN_CI, ServiceUnavailable
from realtime.broker import Broker
from realtime.memory_broker import InMemoryBroker
from realtime.redis_broker import RedisBroker

_prefixes = itertools.count()
_shared: list[RedisServer] = []


def start_redis() -> RedisServer:
    """Start a private redis-server; skip if it is not installed, except under CI."""
    if redis_server_binary() is None and not IN_CI:
        pytest.skip("redis-server is not installed")
    try:
        return RedisServer().start()
    except ServiceUnavailable as exc:
        pytest.fail(f"could not start redis-server: {exc}")


def shared_redis() -> RedisServer:
    """The run's one private redis-server, started on first use (for session fixtures)."""
    if not _shared or not _shared[0].running:
        _shared[:] = [start_redis()]
    return _shared[0]


def stop_shared_redis() -> None:
    """Stop the shared server (idempotent; every module's session fixture calls it)."""
    while _shared:
        _shared.pop().stop()


def unique_prefix() -> str:
    """A key prefix no other test uses, so tests sharing one Redis never see each other."""
    return f"t{os.getpid()}-{time.monotonic_ns()}-{next(_prefixes)}"


class BrokerFactory:
    """Builds fresh brokers of one kind ("memory" or "redis") with the given settings."""

    def __init__(self, kind: str, url: str | None = None) -> None:
        self.kind = kind
        self.url = url

    def __call__(self, **settings: Any) -> Broker:
        if self.kind == "memory":
            return InMemoryBroker(**settings)
        assert self.url is not None
        return self.redis(**settings)

    def redis(self, **settings: Any) -> RedisBroker:
        """A `RedisBroker` on a fresh key prefix, reconnecting quickly."""
        assert self.url is not None
        settings.setdefault("key_prefix", unique_prefix())
        settings.setdefault("reconnect_min_delay", 0.02)
        settings.setdefault("reconnect_max_delay", 0.5)
        return RedisBroker(self.url, **settings)
