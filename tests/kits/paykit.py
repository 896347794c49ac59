"""Helpers of the payment tests: calls, products, orders, signed offline webhooks."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from kits.nodes import Node, node_sessions
from lms.accounts.tokens import mint_access_token
from lms.payments.offline_wire import sign
from persistence.models import User

PROBLEM = "application/problem+json"
SECRETS = ("whsec_current_0123456789", "whsec_previous_0123456789")  # a rotation under way
BLACKHOLE = "blackhole.invalid"  # a Host whose webhooks never arrive: tests send their own


def call(node: Node, token: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
    with node.client(token) as client:
        return client.request(method, path, **kw)


def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, f"{response.status_code} {response.text}"
    return response.json()


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    return body


def course(node: Node, teacher: str) -> dict[str, Any]:
    body = {"code": f"PAY{uuid.uuid4().hex[:8]}", "title": "Paid course"}
    created: dict[str, Any] = ok(call(node, teacher, "POST", "/api/v1/courses", json=body))
    return created


def workshop(node: Node, teacher: str, capacity: int) -> dict[str, Any]:
    day = datetime.now(UTC).date() + timedelta(days=10)
    body = {
        "title": "Paid workshop",
        "time_zone": "Europe/Berlin",
        "start": f"{day.isoformat()}T18:00:00",
        "duration_minutes": 60,
        "capacity": capacity,
    }
    created: dict[str, Any] = ok(call(node, teacher, "POST", "/api/v1/workshops", json=body))
    return created


def product(node: Node, finance: str, **fields: Any) -> dict[str, Any]:
    body = {"prices": [{"currency": "EUR", "unit_amount": 1999}], **fields}
    created: dict[str, Any] = ok(
        call(node, finance, "POST", "/api/v1/payments/products", json=body)
    )
    return created


def order(node: Node, token: str, product_id: str, **kw: Any) -> httpx.Response:
    body = {"product_id": product_id, "currency": "EUR", **kw.pop("body", {})}
    return call(node, token, "POST", "/api/v1/payments/orders", json=body, **kw)


def session_of(created: dict[str, Any]) -> str:
    return str(created["checkout_url"]).rsplit("/", 1)[-1]


def pay(node: Node, created: dict[str, Any], action: str = "pay") -> httpx.Response:
    with httpx.Client(base_url=node.url, follow_redirects=False, timeout=30.0) as client:
        return client.post(f"/pay/offline/{session_of(created)}/{action}")


def event(kind: str, created: dict[str, Any], **data: Any) -> dict[str, Any]:
    return {
        "id": "evt_test_" + uuid.uuid4().hex,
        "type": kind,
        "created": int(time.time()),
        "data": {
            "session_id": session_of(created) if created.get("checkout_url") else None,
            "order_id": created["id"],
            "amount": created["total"],
            "currency": created["currency"],
            **data,
        },
    }


def deliver(
    node: Node,
    body: dict[str, Any],
    secret: str,
    *,
    at: int | None = None,
    raw: bytes | None = None,
) -> httpx.Response:
    payload = raw if raw is not None else orjson.dumps(body)
    header = sign(payload, secret, at if at is not None else int(time.time()))
    headers = {"content-type": "application/json", "Liveclass-Signature": header}
    with httpx.Client(base_url=node.url, timeout=30.0) as client:
        return client.post("/api/v1/payments/webhooks/offline", content=payload, headers=headers)


def wait_status(node: Node, token: str, order_id: str, *statuses: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        got: dict[str, Any] = ok(call(node, token, "GET", f"/api/v1/payments/orders/{order_id}"))
        if got["status"] in statuses:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"order {order_id} stayed {got['status']}, not {statuses}")
        time.sleep(0.1)


NODE_SECRET = "t" * 48  # kits.nodes.start_node's LIVECLASS_SECRET_KEY


def many_buyers(node: Node, count: int) -> list[str]:
    """``count`` student accounts written straight to the node's database, and an access
    token for each signed with the node's secret by the accounts' own minting: signing up
    200 people through argon2 is not what a seat race tests, and takes minutes on a busy
    machine."""

    async def make() -> list[str]:
        now = datetime.now(UTC)
        users = [
            User(
                email=f"buyer-{uuid.uuid4().hex}@example.org",
                name="Buyer",
                password_hash="!",
                role="student",
            )
            for _ in range(count)
        ]
        async with node_sessions(node) as sessions, sessions() as session:
            session.add_all(users)
            await session.commit()
        return [
            mint_access_token(
                secret=NODE_SECRET, user_id=u.id, version=0, now=now, ttl=timedelta(hours=1)
            )
            for u in users
        ]

    return asyncio.run(make())
