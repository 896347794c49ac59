"""Fixtures of the payment tests: a node on SQLite and on PostgreSQL with the offline
provider (two webhook secrets: a rotation in progress), mailing to a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kits.nodes import Node, start_node
from kits.paykit import SECRETS
from kits.smtp import SmtpServer, smtp_server


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def pay_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer
) -> Iterator[Node]:
    env = {
        "LIVECLASS_JOBS_POLL_SECONDS": "0.2",
        "LIVECLASS_PAYMENTS_WEBHOOK_SECRETS": ",".join(SECRETS),
    }
    yield from start_node(
        tmp_path_factory.mktemp("payments"), request.param, request, **smtp.env, **env
    )


@pytest.fixture(scope="module")
def staff(pay_node: Node) -> dict[str, str]:
    """A module's instructor and finance officer on the payment node (their tokens)."""
    _, teacher = pay_node.register("instructor")
    _, finance = pay_node.register("finance")
    return {"teacher": teacher, "finance": finance}
