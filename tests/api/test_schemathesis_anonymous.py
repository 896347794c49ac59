"""Property-based fuzzing of every REST operation of a real node with schemathesis, without
credentials (as an admin: test_schemathesis.py). Any 5xx, or a success response that does
not match the documented schema, fails the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kits import fuzzing
from kits.nodes import Node

pytestmark = pytest.mark.slow  # among the costliest modules: the workers start with them


@pytest.fixture(scope="module", params=["sqlite"])
def anonymous_fuzz_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node for this module; server errors are logged at the default warning level.

    SQLite alone: without credentials most operations stop at authentication, before the
    database; the public ones (sign-up, sign-in, webhooks, feeds, checkout pages) answer the
    same to the admin run, test_schemathesis.py, which covers both databases."""
    yield from fuzzing.fuzz_node(request, tmp_path_factory)


@pytest.mark.timeout(fuzzing.RUN_SECONDS + 60)
def test_no_server_errors_without_credentials(anonymous_fuzz_node: Node, tmp_path: Path) -> None:
    # Without credentials nearly every case stops at authentication: the coverage phase's
    # boundary cases (10,455 of them, 83 s) reach each operation's parsing; a few fuzzing
    # examples on top suffice (30 took 163 s more, almost all answered 401).
    fuzzing.schemathesis(anonymous_fuzz_node, tmp_path, examples="10")
