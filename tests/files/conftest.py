"""Fixtures of the files tests: a node per module (SQLite with the local blob store,
PostgreSQL with S3 on moto's server mode) and a fresh course per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from files_kit import MAX_FILE, QUOTA, Course, make_course

from kits.nodes import Node, start_node
from kits.s3 import s3_server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def files_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """SQLite with the local blob store; PostgreSQL with S3 (moto)."""
    env = {
        "LIVECLASS_UPLOAD_COURSE_QUOTA_BYTES": str(QUOTA),
        "LIVECLASS_UPLOAD_MAX_FILE_BYTES": str(MAX_FILE),
        "LIVECLASS_JOBS_POLL_SECONDS": "0.5",  # jobs a test enqueues from its own process
    }
    if request.param == "sqlite":
        yield from start_node(tmp_path_factory.mktemp("files"), "sqlite", request, **env)
        return
    with s3_server() as s3:
        env |= s3.env(s3.create_bucket("liveclass-files"))
        yield from start_node(tmp_path_factory.mktemp("files"), "postgres", request, **env)


@pytest.fixture
def course(files_node: Node) -> Course:
    """A fresh published course with an instructor and an enrolled student."""
    return make_course(files_node)
