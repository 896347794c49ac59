"""Fixtures: real liveclass nodes on free ports, over SQLite and a private PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from kits import logleaks, ordering
from kits.nodes import Node, start_node
from kits.opener import RoomOpener, RoomOpeners
from kits.servers import (
    IN_CI,
    STARTED,
    LiveServer,
    PostgresServer,
    ServiceUnavailable,
    start_postgres,
)
from kits.yjs import DOC_ENV, NodeClients

# Every node and command the tests start hashes passwords at argon2id's cheapest parameters
# (a test-only setting: thousands of accounts are registered; tests/unit/test_passwords.py
# checks the production parameters). Benchmarks do not load this file: they hash as shipped.
os.environ.setdefault("LIVECLASS_INSECURE_TEST_PASSWORD_HASHING", "true")


def pytest_addoption(parser: pytest.Parser) -> None:
    logleaks.add_option(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Search every log of the run for tokens (tests/kits/logleaks.py)."""
    logleaks.configure(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the browser tests; hand xdist the costliest modules first (tests/kits/ordering.py)."""
    ordering.mark_browser_tests(items)
    items[:] = ordering.heaviest_first(items)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole run (our own cluster when we can start one)."""
    try:
        server = start_postgres()
    except ServiceUnavailable as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI: {exc}")
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node shared by a test module, once on SQLite and once on PostgreSQL."""
    yield from start_node(tmp_path_factory.mktemp("node"), request.param, request)


@pytest.fixture(scope="session")
def room_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """One SQLite node for every room module that asks (starting a node and its admin costs
    seconds). Tests stay independent: each uses its own rooms and people."""
    yield from start_node(tmp_path_factory.mktemp("rooms"), "sqlite", request)


@pytest.fixture
async def open_room(room_node: Node) -> AsyncIterator[RoomOpener]:
    """The room set-up on the shared room node (``kits.opener.RoomOpener``); the clients it
    connected are closed after the test."""
    opener = RoomOpener(room_node)
    yield opener
    await opener.close()


@pytest.fixture
async def rooms_on() -> AsyncIterator[RoomOpeners]:
    """The room set-up on any node: ``rooms_on(node)`` is a ``kits.opener.RoomOpener`` there
    (a module's own node, either database, each node of a cluster); the clients they
    connected are closed after the test."""
    openers = RoomOpeners()
    yield openers
    await openers.close()


@pytest.fixture(scope="module")
def sqlite_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node on the embedded SQLite defaults, shared by a test module."""
    yield from start_node(tmp_path_factory.mktemp("node"), "sqlite", request)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def docs_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node with small document caps, shared by a module, on SQLite and on PostgreSQL."""
    yield from start_node(tmp_path_factory.mktemp("docs"), request.param, request, **DOC_ENV)


@pytest.fixture
def clients() -> Iterator[NodeClients]:
    """A Node process of stock y-websocket clients, ended after the test."""
    harness = NodeClients()
    yield harness
    harness.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI a skipped test is a failure: every service must be there."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which is not allowed: {report.longrepr}"
    if report.failed:
        started = STARTED[item.stash.get(FIRST_STARTED, len(STARTED)) :]
        for server in {id(one): one for one in _servers_of(item) + started}.values():
            report.sections.append((f"node log, {server.url}", _tail(server.log())))


FIRST_STARTED = pytest.StashKey[int]()
"""How many nodes this process had started when the test's setup began."""


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[FIRST_STARTED] = len(STARTED)


NODE_LOG_TAIL = 60
"""Lines of each node's log shown under a failed test: a CI failure's only trace of what the
node saw (pool timeouts, errors, warnings) is what pytest printed."""


def _servers_of(item: pytest.Item) -> list[LiveServer]:
    """The nodes the test used through its fixtures: a ``LiveServer``, a ``Node``, or a
    cluster's ``nodes``."""
    found: dict[int, LiveServer] = {}
    for value in getattr(item, "funcargs", {}).values():
        nodes = getattr(value, "nodes", None)
        for one in nodes if isinstance(nodes, list) else [value]:
            server = one.server if isinstance(one, Node) else one
            if isinstance(server, LiveServer):
                found[id(server)] = server
    return list(found.values())


def _tail(text: str) -> str:
    lines = text.splitlines()
    return "\n".join(lines[-NODE_LOG_TAIL:]) or "(empty)"
