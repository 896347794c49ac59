"""Login throttling per account and per address: 429 with Retry-After, shared via the DB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import PASSWORD, Node, start_node

pytestmark = pytest.mark.postgres


@pytest.fixture(params=["sqlite", "postgres"])
def strict_node(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Node]:
    """A node that allows 3 failures per account and 7 per address in 10 minutes."""
    yield from start_node(
        tmp_path,
        request.param,
        request,
        LIVECLASS_LOGIN_MAX_FAILURES_PER_ACCOUNT="3",
        LIVECLASS_LOGIN_MAX_FAILURES_PER_IP="7",
        LIVECLASS_LOGIN_FAILURE_WINDOW_SECONDS="600",
    )


def _attempt(node: Node, email: str, password: str) -> int:
    with node.client() as client:
        response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
        if response.status_code == 429:
            retry = int(response.headers["retry-after"])
            assert 0 < retry <= 601
            assert response.headers["content-type"] == "application/problem+json"
        return response.status_code


def test_account_lockout_then_address_lockout(strict_node: Node) -> None:
    victim, _ = strict_node.register()
    other, _ = strict_node.register()
    assert [_attempt(strict_node, victim, "bad-guess!") for _ in range(3)] == [401] * 3
    # The right password does not help once the account is throttled.
    assert _attempt(strict_node, victim, PASSWORD) == 429
    # Other accounts from the same address still work until the address limit.
    assert _attempt(strict_node, other, PASSWORD) == 200
    statuses = [_attempt(strict_node, other, "bad-guess!") for _ in range(4)]
    assert statuses[:3] == [401] * 3  # three more failures -> 6 for this address
    assert statuses[3] == 429  # account limit of `other` reached as well
    third, _ = strict_node.register()
    assert _attempt(strict_node, third, "bad-guess!") == 401  # 7th failure from the address
    assert _attempt(strict_node, third, PASSWORD) == 429  # address now blocked


def test_success_resets_the_account_counter(strict_node: Node) -> None:
    email, _ = strict_node.register()
    assert [_attempt(strict_node, email, "bad-guess!") for _ in range(2)] == [401, 401]
    assert _attempt(strict_node, email, PASSWORD) == 200
    assert [_attempt(strict_node, email, "bad-guess!") for _ in range(2)] == [401, 401]
    assert _attempt(strict_node, email, PASSWORD) == 200


def test_throttled_attempts_are_audited(strict_node: Node) -> None:
    email, _ = strict_node.register()
    for _ in range(4):
        _attempt(strict_node, email, "bad-guess!")
    with strict_node.client(strict_node.admin_token()) as admin:
        items = admin.get(
            "/api/v1/audit-events", params={"action": "auth.login", "target_id": email}
        ).json()["items"]
    assert [i["outcome"] for i in items][:4] == ["throttled", "failure", "failure", "failure"]
