"""Outgoing webhooks on a live node (SQLite and PostgreSQL) delivering to a real HTTP
receiver on a free port: signatures checked by our own HMAC here, secret rotation, retries
on the (shortened) schedule, an endpoint disabled after its retries run out (audit and
domain event), giant and slow answers, redirects, manual redelivery and the admin API's
refusals. The node runs with LIVECLASS_WEBHOOKS_ALLOW_PRIVATE so 127.0.0.1 is allowed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from jobs.events import emit
from kits import jobs as jobkit
from kits.nodes import Node, start_node
from kits.opener import RoomOpeners
from kits.receiver import Received, Receiver, receiving
from kits.rooms import register as register_person
from kits.rooms import rest
from kits.servers import ROOT
from kits.waiting import eventually
from lms.webhooks.jobs import CONSUMER as WEBHOOKS_CONSUMER
from persistence.engine import create_engine, create_sessionmaker
from persistence.models import ConsumedEvent, DomainEvent

API = "/api/v1/admin/webhooks"
PROBLEM = "application/problem+json"
SCHEDULE = "0.3s,0.3s"  # three attempts in well under a second (the real one spans a day)
_paths = itertools.count()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def hooks_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node that may call 127.0.0.1 over http, retrying quickly, waiting 2 s at most."""
    yield from start_node(
        tmp_path_factory.mktemp("hooks"),
        request.param,
        request,
        LIVECLASS_WEBHOOKS_ALLOW_PRIVATE="true",
        LIVECLASS_WEBHOOKS_ALLOW_HTTP="true",
        LIVECLASS_WEBHOOKS_RETRY_SCHEDULE=SCHEDULE,
        LIVECLASS_WEBHOOKS_TIMEOUT_SECONDS="2",
        LIVECLASS_WEBHOOKS_CONNECT_TIMEOUT_SECONDS="1",
        LIVECLASS_JOBS_POLL_SECONDS="0.2",
        LIVECLASS_JOBS_MODULES="kits.jobs",
        PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
    )


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """One receiver for the module; each test uses its own paths."""
    with receiving() as found:
        yield found


@pytest.fixture(scope="module")
async def node_engine(hooks_node: Node) -> AsyncIterator[AsyncEngine]:
    """An engine on the node's database, to emit events as a domain would."""
    url = hooks_node.database_url or (
        f"sqlite+aiosqlite:///{hooks_node.server.data_dir.resolve() / 'liveclass.db'}"
    )
    engine = create_engine(url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def admin(hooks_node: Node) -> AsyncIterator[httpx.AsyncClient]:
    """An admin's client."""
    headers = {"Authorization": f"Bearer {hooks_node.admin_token()}"}
    async with httpx.AsyncClient(base_url=hooks_node.url, headers=headers, timeout=30) as client:
        yield client


def path() -> str:
    """A receiver path of one's own."""
    return f"/hook-{next(_paths)}-{os.getpid()}"


QUIET = ["recording.stopped"]
"""An event type these tests never emit: endpoints that only get test messages."""


async def register(
    client: httpx.AsyncClient, receiver: Receiver, types: list[str] | None = QUIET, **extra: Any
) -> tuple[dict[str, Any], str]:
    """Register an endpoint at a fresh receiver path; (endpoint, its path)."""
    where = path()
    made = await client.post(API, json={"url": receiver.url + where, "event_types": types, **extra})
    assert made.status_code == 201, made.text
    return made.json(), where


async def noted(engine: AsyncEngine, n: int, note: str = "") -> uuid.UUID:
    """Emit a ``test.noted`` event into the node's outbox (as a domain would); its id."""
    async with create_sessionmaker(engine)() as session:
        row = await emit(
            session, jobkit.NOTED, jobkit.Noted(n=n, note=note), aggregate_id=f"hooks-{n}"
        )
        await session.commit()
        return row.event_id


async def fanned_out(engine: AsyncEngine, *events: uuid.UUID) -> None:
    """Wait until the webhooks' consumer has handled ``events`` (made their deliveries)."""
    query = select(func.count()).where(
        ConsumedEvent.consumer == WEBHOOKS_CONSUMER, ConsumedEvent.event_id.in_(events)
    )

    async def handled() -> bool:
        async with create_sessionmaker(engine)() as session:
            return await session.scalar(query) == len(events)

    await eventually(handled, what="the webhooks' consumer to handle the events")


async def arrivals(
    receiver: Receiver, where: str, count: int, within: float = 60.0
) -> list[Received]:
    """Wait until ``where`` got ``count`` requests; return them."""

    async def enough() -> bool:
        return len(receiver.received(where)) >= count

    await eventually(enough, within=within, what=f"{count} requests at {where}")
    return receiver.received(where)


async def deliveries(
    client: httpx.AsyncClient, endpoint_id: int, **params: str
) -> list[dict[str, Any]]:
    """The endpoint's delivery log (first page)."""
    found = await client.get(f"{API}/{endpoint_id}/deliveries", params=params)
    assert found.status_code == 200, found.text
    return list(found.json()["items"])


async def settled(client: httpx.AsyncClient, endpoint_id: int, status: str) -> dict[str, Any]:
    """Wait until the newest delivery of the endpoint has ``status``; return its detail."""

    async def done() -> bool:
        items = await deliveries(client, endpoint_id)
        return bool(items) and items[0]["status"] == status

    await eventually(done, what=f"a {status} delivery")
    newest = (await deliveries(client, endpoint_id))[0]
    return dict((await client.get(f"{API}/{endpoint_id}/deliveries/{newest['id']}")).json())


def my_signature(secret: str, received: Received) -> str:
    """Standard Webhooks' signature, computed here from the spec (not the server's code)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    message = (
        received.headers["webhook-id"].encode()
        + b"."
        + received.headers["webhook-timestamp"].encode()
        + b"."
        + received.body
    )
    return "v1," + base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """A problem document with ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    return dict(response.json())


# ------------------------------------------------------------------ delivery


async def test_an_event_is_delivered_signed_to_subscribers_only(
    admin: httpx.AsyncClient, receiver: Receiver, node_engine: AsyncEngine
) -> None:
    endpoint, where = await register(admin, receiver, ["test.noted"])
    secret = endpoint.pop("secret")
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) >= 24
    assert "secret" not in (await admin.get(f"{API}/{endpoint['id']}")).json()
    other, elsewhere = await register(admin, receiver, ["recording.stopped"])

    await noted(node_engine, 1, "hello")
    (got,) = await arrivals(receiver, where, 1)
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"].startswith("msg_")
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 120
    assert got.headers["webhook-signature"] == my_signature(secret, got)
    body = json.loads(got.body)
    assert body["type"] == "test.noted"
    assert body["data"] == {"n": 1, "note": "hello"}
    assert body["timestamp"].endswith("Z")

    detail = await settled(admin, endpoint["id"], "delivered")
    assert detail["attempts"] == 1 and detail["response_status"] == 204
    assert detail["webhook_id"] == got.headers["webhook-id"]
    assert json.loads(detail["request_excerpt"]) == body
    assert [line["ok"] for line in detail["attempt_log"]] == [True]
    # The other endpoint wants another type: nothing was made for it, nothing arrived.
    assert await deliveries(admin, other["id"]) == [] and receiver.received(elsewhere) == []


async def test_a_class_that_ends_reaches_a_subscriber_as_room_ended(
    admin: httpx.AsyncClient,
    receiver: Receiver,
    hooks_node: Node,
    rooms_on: RoomOpeners,
    node_engine: AsyncEngine,
) -> None:
    """Room events that matter outside the room become domain events: a host ends the
    class, and a webhook subscriber hears of it with the final attendance."""
    endpoint, where = await register(admin, receiver, ["room.ended"])
    host, student = register_person(hooks_node, "instructor"), register_person(hooks_node)
    room_id, (_, seated) = await rooms_on(hooks_node)(
        host, members=[(student, "participant")], enter=[host, student]
    )
    await seated.close()
    ended = await rest(hooks_node, host, "POST", f"/api/v1/rooms/{room_id}/end")
    assert ended.status_code in (200, 204), ended.text
    (got,) = await arrivals(receiver, where, 1)
    assert got.headers["webhook-signature"] == my_signature(endpoint["secret"], got)
    body = json.loads(got.body)
    assert body["type"] == "room.ended"
    data = body["data"]
    assert data["room_id"] == room_id and data["attendees"] == 2
    assert data["created_by"] == host.user_id and data["course_id"] is None
    assert data["ended_at"] >= data["started_at"]
    # Ending it again is no second event.
    await rest(hooks_node, host, "POST", f"/api/v1/rooms/{room_id}/end")
    async with create_sessionmaker(node_engine)() as session:
        emitted = await session.scalar(
            select(func.count()).where(
                DomainEvent.type == "room.ended", DomainEvent.aggregate_id == room_id
            )
        )
    assert emitted == 1


async def test_a_rotated_secret_signs_beside_the_new_one(
    admin: httpx.AsyncClient, receiver: Receiver
) -> None:
    endpoint, where = await register(admin, receiver)
    old = endpoint["secret"]
    rotated = await admin.post(f"{API}/{endpoint['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old and new.startswith("whsec_")
    assert rotated.json()["previous_secret_expires_at"] is not None
    shown = (await admin.get(f"{API}/{endpoint['id']}")).json()
    assert shown["previous_secret_expires_at"] == rotated.json()["previous_secret_expires_at"]

    sent = await admin.post(f"{API}/{endpoint['id']}/test")
    assert sent.status_code == 202, sent.text
    (got,) = await arrivals(receiver, where, 1)
    assert json.loads(got.body)["type"] == "webhook.test"
    signatures = got.headers["webhook-signature"].split(" ")
    assert signatures == [my_signature(new, got), my_signature(old, got)]


async def test_failures_are_retried_on_the_schedule_with_the_same_id(
    admin: httpx.AsyncClient, receiver: Receiver, node_engine: AsyncEngine
) -> None:
    endpoint, where = await register(admin, receiver, ["test.noted"])
    receiver.plan(where, "status:500", "close")  # then it answers 204
    await noted(node_engine, 2)
    got = await arrivals(receiver, where, 3)
    detail = await settled(admin, endpoint["id"], "delivered")
    assert len(got) == 3, "one request per attempt, no more"
    assert len({r.headers["webhook-id"] for r in got}) == 1
    assert len({r.body for r in got}) == 1
    assert all(later.at - earlier.at >= 0.25 for earlier, later in itertools.pairwise(got))
    assert detail["attempts"] == 3
    log = detail["attempt_log"]
    assert [line["status"] for line in log] == [500, None, 204]
    assert "500" in log[0]["error"] and log[1]["error"]
    assert (await admin.get(f"{API}/{endpoint['id']}")).json()["failure_streak"] == 0


async def test_an_endpoint_failing_every_retry_is_disabled_audited_and_announced(
    admin: httpx.AsyncClient, receiver: Receiver, node_engine: AsyncEngine
) -> None:
    endpoint, where = await register(admin, receiver, ["test.noted"])
    watcher, watched = await register(admin, receiver, ["webhook.endpoint_disabled"])
    receiver.plan(where, "status:503", "status:503", "status:503")
    await noted(node_engine, 3)
    detail = await settled(admin, endpoint["id"], "failed")
    assert detail["attempts"] == 3 and detail["response_status"] == 503
    assert "failing on purpose" in detail["response_excerpt"]
    assert len(receiver.received(where)) == 3
    shown = (await admin.get(f"{API}/{endpoint['id']}")).json()
    assert shown["enabled"] is False and "failed 3 times" in shown["disabled_reason"]
    assert shown["failure_streak"] == 3

    audit = (
        await admin.get(
            "/api/v1/audit-events",
            params={"action": "webhook.endpoint_disabled", "target_id": str(endpoint["id"])},
        )
    ).json()["items"]
    assert len(audit) == 1 and audit[0]["actor_kind"] == "system"
    # The domain event reached another endpoint subscribed to it.
    (announced,) = await arrivals(receiver, watched, 1)
    event = json.loads(announced.body)
    assert event["type"] == "webhook.endpoint_disabled"
    assert event["data"]["endpoint_id"] == endpoint["id"]
    assert event["data"]["automatic"] is True
    assert event["data"]["failed_delivery_id"] == detail["id"]
    assert announced.headers["webhook-signature"] == my_signature(watcher["secret"], announced)

    # Its owner (the admin who registered it) finds it in their notifications.
    async def told() -> bool:
        inbox = (await admin.get("/api/v1/notifications")).json()["items"]
        return any(
            n["title"] == "Webhook endpoint disabled" and endpoint["url"] in n["body"]
            for n in inbox
        )

    await eventually(told, what="the owner's notification")

    # Disabled: new events make no delivery for it (another endpoint still wants them, so
    # they are fanned out); enabled again, it receives.
    await register(admin, receiver, ["test.noted"])
    await fanned_out(node_engine, await noted(node_engine, 4), await noted(node_engine, 5))
    assert_problem(await admin.post(f"{API}/{endpoint['id']}/test"), 409)
    enabled = await admin.post(f"{API}/{endpoint['id']}/enable")
    assert enabled.json()["enabled"] is True and enabled.json()["failure_streak"] == 0
    assert (await admin.post(f"{API}/{endpoint['id']}/test")).status_code == 202
    await arrivals(receiver, where, 4)
    types = [json.loads(r.body)["type"] for r in receiver.received(where)]
    assert types[3] == "webhook.test"


async def test_giant_slow_and_redirecting_answers_neither_hang_nor_bloat_the_log(
    admin: httpx.AsyncClient, receiver: Receiver
) -> None:
    endpoint, where = await register(admin, receiver)
    eid = endpoint["id"]
    receiver.plan(where, "giant")
    await admin.post(f"{API}/{eid}/test")
    detail = await settled(admin, eid, "delivered")
    assert detail["response_status"] == 200
    assert len(detail["response_excerpt"]) <= 2048
    assert detail["duration_ms"] < 2000
    assert receiver.giant_bytes_sent < 64 * 1024 * 1024

    receiver.plan(where, "slow:4")  # longer than the node's 2 s limit
    await admin.post(f"{API}/{eid}/test")
    detail = await settled(admin, eid, "failed")
    assert "timed out" in detail["error"] and detail["duration_ms"] < 3500

    receiver.plan(where, "trickle:4")  # a 200 whose body crawls: the status counts
    await admin.post(f"{API}/{eid}/test")
    detail = await settled(admin, eid, "delivered")
    assert detail["response_status"] == 200 and "not read" in detail["response_excerpt"]

    receiver.plan(where, "redirect")
    await admin.post(f"{API}/{eid}/test")
    detail = await settled(admin, eid, "failed")
    assert detail["response_status"] == 302 and "302" in detail["error"]
    assert receiver.received("/elsewhere") == []
    assert len(receiver.received(where)) == 4
    # The endpoint stays enabled: test messages are attempted once and never disable it.
    assert (await admin.get(f"{API}/{eid}")).json()["enabled"] is True


async def test_a_delivery_is_redelivered_by_hand_with_its_id(
    admin: httpx.AsyncClient, receiver: Receiver
) -> None:
    endpoint, where = await register(admin, receiver)
    eid = endpoint["id"]
    receiver.plan(where, "status:500")
    await admin.post(f"{API}/{eid}/test")
    failed = await settled(admin, eid, "failed")
    again = await admin.post(f"{API}/{eid}/deliveries/{failed['id']}/redeliver")
    assert again.status_code == 202, again.text
    assert again.json()["status"] == "pending"
    assert_problem(await admin.post(f"{API}/{eid}/deliveries/{failed['id']}/redeliver"), 409)
    detail = await settled(admin, eid, "delivered")
    assert detail["id"] == failed["id"] and detail["attempts"] == 2
    first, second = await arrivals(receiver, where, 2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == failed["webhook_id"]
    assert first.body == second.body
    assert_problem(await admin.post(f"{API}/{eid}/deliveries/999999/redeliver"), 404)
    actions = [
        e["action"]
        for e in (
            await admin.get(
                "/api/v1/audit-events", params={"target_id": str(eid), "action_prefix": "webhook."}
            )
        ).json()["items"]
    ]
    assert {"webhook.create", "webhook.test", "webhook.redeliver"} <= set(actions)


async def test_the_delivery_log_pages_and_filters(
    admin: httpx.AsyncClient, receiver: Receiver
) -> None:
    endpoint, where = await register(admin, receiver)
    eid = endpoint["id"]
    receiver.plan(where, "status:500")
    for _ in range(3):
        await admin.post(f"{API}/{eid}/test")

    async def three_settled() -> bool:
        return len([d for d in await deliveries(admin, eid) if d["status"] != "pending"]) == 3

    await eventually(three_settled, what="three settled test messages")
    page = await admin.get(f"{API}/{eid}/deliveries", params={"limit": 2})
    assert len(page.json()["items"]) == 2 and page.json()["next"]
    assert 'rel="next"' in page.headers["link"]
    rest = await admin.get(
        f"{API}/{eid}/deliveries", params={"limit": 2, "cursor": page.json()["next"]}
    )
    ids = [d["id"] for d in page.json()["items"] + rest.json()["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    assert len(await deliveries(admin, eid, status="failed")) == 1
    assert len(await deliveries(admin, eid, status="delivered")) == 2


# ------------------------------------------------------------------ the admin API


async def test_endpoints_are_listed_changed_and_deleted(
    admin: httpx.AsyncClient, receiver: Receiver
) -> None:
    made = [(await register(admin, receiver))[0] for _ in range(3)]
    first = await admin.get(API, params={"limit": 2})
    assert first.status_code == 200 and first.json()["next"]
    rest = await admin.get(API, params={"cursor": first.json()["next"], "limit": 200})
    listed = [e["id"] for e in first.json()["items"] + rest.json()["items"]]
    assert {e["id"] for e in made} <= set(listed) and listed == sorted(listed)

    eid = made[0]["id"]
    changed = await admin.patch(
        f"{API}/{eid}", json={"description": "billing", "event_types": ["test.noted"]}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["description"] == "billing"
    assert changed.json()["event_types"] == ["test.noted"]
    everything = await admin.patch(f"{API}/{eid}", json={"event_types": None})
    assert everything.json()["event_types"] is None
    disabled = await admin.post(f"{API}/{eid}/disable")
    assert disabled.json()["enabled"] is False
    assert disabled.json()["disabled_reason"] == "Disabled by an admin."
    types = (await admin.get(f"{API}/event-types")).json()
    assert {"test.noted", "recording.stopped", "webhook.endpoint_disabled"} <= {
        t["name"] for t in types
    }
    assert (await admin.delete(f"{API}/{eid}")).status_code == 204
    assert_problem(await admin.get(f"{API}/{eid}"), 404)
    assert_problem(await admin.get(f"{API}/{eid}/deliveries"), 404)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"url": "ftp://127.0.0.1/x"}, "https://"),
        ({"url": "not a url"}, "spaces"),
        ({"url": "http://user:pw@127.0.0.1/x"}, "password"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "link-local"),
        ({"url": "http://0.0.0.0:80/"}, "unspecified"),
        ({"url": "http://127.0.0.1:99999/"}, "port"),
        ({"url": "http://no-such-host.invalid/"}, "does not resolve"),
        ({"url": "http://127.0.0.1/" + "a" * 3000}, None),
        ({"url": "http://127.0.0.1/x", "event_types": ["no.such"]}, "no.such"),
        ({"url": "http://127.0.0.1/x", "event_types": []}, None),
        ({"url": "http://127.0.0.1/x", "secret": "mine"}, None),
        ({"url": "http://127.0.0.1/x", "description": "d" * 501}, None),
        ({"url": 5}, None),
        ({}, None),
    ],
)
async def test_bad_endpoints_are_refused_with_a_problem(
    admin: httpx.AsyncClient, body: dict[str, Any], says: str | None
) -> None:
    problem = assert_problem(await admin.post(API, json=body), 422)
    if says is not None:
        assert says in problem["detail"]


async def test_malformed_requests_get_problems(
    admin: httpx.AsyncClient, receiver: Receiver
) -> None:
    endpoint, _where = await register(admin, receiver)
    eid = endpoint["id"]
    assert_problem(
        await admin.post(API, content=b"{not json", headers={"content-type": "application/json"}),
        422,
    )
    assert_problem(await admin.patch(f"{API}/{eid}", json={"url": "ftp://x/"}), 422)
    assert_problem(await admin.patch(f"{API}/{eid}", json={"event_types": ["nope"]}), 422)
    assert_problem(await admin.get(f"{API}/{eid}/deliveries", params={"status": "lost"}), 422)
    assert_problem(await admin.get(f"{API}/{eid}/deliveries", params={"cursor": "bogus!"}), 422)
    assert_problem(await admin.get(f"{API}/0"), 422)
    assert_problem(await admin.get(f"{API}/{eid}/deliveries/123456789"), 404)
    big = await admin.post(
        API, content=b"[" + b"1," * 600_000 + b"1]", headers={"content-type": "application/json"}
    )
    assert_problem(big, 413)


def test_only_admins_manage_webhooks(hooks_node: Node, receiver: Receiver) -> None:
    _email, student = hooks_node.register("student")
    _email, instructor = hooks_node.register("instructor")
    body = {"url": receiver.url + path()}
    with hooks_node.client() as anonymous:
        assert_problem(anonymous.get(API), 401)
        assert_problem(anonymous.post(API, json=body), 401)
    for token in (student, instructor):
        with hooks_node.client(token) as client:
            assert_problem(client.get(API), 403)
            assert_problem(client.post(API, json=body), 403)
            assert_problem(client.get(f"{API}/event-types"), 403)
