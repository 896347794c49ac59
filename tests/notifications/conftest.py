"""Fixtures of the notification tests: a real SMTP server (aiosmtpd) and a node sending its
mail there, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kits.nodes import Node, start_node
from kits.smtp import SmtpServer, smtp_server

PUBLIC_URL = "http://liveclass.test"
MAIL_ENV = {
    "LIVECLASS_PUBLIC_URL": PUBLIC_URL,
    "LIVECLASS_JOBS_POLL_SECONDS": "0.2",
    "LIVECLASS_PASSWORD_RESET_MAX_PER_ADDRESS": "3",
    "LIVECLASS_NOTIFICATIONS_DIGEST_SCHEDULE": "@every 2s",
}


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    """An SMTP server for the module's node."""
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def mail_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer
) -> Iterator[Node]:
    """A node that sends its e-mail to ``smtp``, shared by a module, on both databases."""
    yield from start_node(
        tmp_path_factory.mktemp("mail"), request.param, request, **smtp.env, **MAIL_ENV
    )
