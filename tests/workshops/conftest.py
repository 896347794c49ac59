"""Fixtures of the workshop tests: a node on SQLite and on PostgreSQL that sends its
e-mail to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kits.nodes import Node, start_node
from kits.smtp import SmtpServer, smtp_server


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    """An SMTP server for the module's node."""
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def workshop_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer
) -> Iterator[Node]:
    """A node mailing to ``smtp``, polling jobs and reminders quickly, on both databases."""
    env = {
        "LIVECLASS_PUBLIC_URL": "http://liveclass.test",
        "LIVECLASS_JOBS_POLL_SECONDS": "0.2",
        "LIVECLASS_WORKSHOPS_REMINDER_SCHEDULE": "@every 1s",
        "LIVECLASS_WORKSHOPS_CLOSE_GRACE_SECONDS": "5",
    }
    yield from start_node(
        tmp_path_factory.mktemp("workshops"), request.param, request, **smtp.env, **env
    )
