"""A node with the graded-code sandbox, shared by a labs test module (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kits.labs import LabCourse
from kits.nodes import Node, start_node
from kits.sandbox import shared_cache


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def lab_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    yield from start_node(
        tmp_path_factory.mktemp("node"),
        request.param,
        request,
        LIVECLASS_SANDBOX_CACHE_DIR=str(shared_cache(tmp_path_factory)),
        LIVECLASS_SANDBOX_WORKERS="1",
        LIVECLASS_SANDBOX_PRACTICE_BURST="50",
        LIVECLASS_SANDBOX_PRACTICE_RUNS_PER_MINUTE="600",
    )


@pytest.fixture
def course(lab_node: Node) -> LabCourse:
    """A fresh course (an instructor, a TA, three learners, an outsider) on the node."""
    return LabCourse(lab_node)
