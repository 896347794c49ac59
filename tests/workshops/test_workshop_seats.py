"""Workshops on a real node, on SQLite and PostgreSQL: recurring schedules across a
daylight-saving change, registration with a waitlist, promotion of the first waiting
learner by e-mail through a real SMTP server, confirmation and lapse, deadlines,
cancellation, bad input, and a seat race of 200 concurrent requests for 30 seats."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select, update

from kits.nodes import PASSWORD, Node, node_sessions
from kits.smtp import Received, SmtpServer
from persistence.models import Job, WorkshopRegistration

pytestmark = pytest.mark.postgres

PROBLEM = "application/problem+json"


def call(node: Node, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
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


def soon(days: int = 10) -> str:
    """A local start ``days`` from now, at 18:00."""
    day = datetime.now(UTC).date() + timedelta(days=days)
    return f"{day.isoformat()}T18:00:00"


def workshop(node: Node, token: str, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Intro to pandas",
        "time_zone": "Europe/Berlin",
        "start": soon(),
        "duration_minutes": 90,
        "capacity": 2,
        **fields,
    }
    created: dict[str, Any] = ok(call(node, token, "POST", "/api/v1/workshops", json=body))
    return created


def test_weekly_sessions_keep_local_time_across_dst(workshop_node: Node) -> None:
    _, teacher = workshop_node.register("instructor")
    created = workshop(
        workshop_node,
        teacher,
        start="2030-03-22T18:00:00",
        rrule="FREQ=WEEKLY;COUNT=3",
        time_zone="Europe/Berlin",
    )
    starts = [o["starts_at"] for o in created["occurrences"]]
    # CET (+01:00) before 31 March 2030, CEST (+02:00) after: 18:00 local both times.
    assert [datetime.fromisoformat(s) for s in starts] == [
        datetime(2030, 3, 22, 17, 0, tzinfo=UTC),
        datetime(2030, 3, 29, 17, 0, tzinfo=UTC),
        datetime(2030, 4, 5, 16, 0, tzinfo=UTC),
    ]
    assert created["seats_left"] == 2 and created["my_registration"] is None
    again = ok(call(workshop_node, teacher, "GET", f"/api/v1/workshops/{created['id']}"))
    assert again["occurrences"] == created["occurrences"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"rrule": "FREQ=SOMETIMES"}, "recurrence"),
        ({"rrule": "FREQ=DAILY"}, "more than"),
        ({"rrule": "DTSTART:20300101T000000\nRRULE:FREQ=DAILY;COUNT=2"}, "one RRULE"),
        ({"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31"}, "no session"),
        ({"time_zone": "Mars/Olympus_Mons"}, "IANA"),
        ({"time_zone": "../../etc/passwd"}, "IANA"),
        ({"start": "2030-03-22T18:00:00+01:00"}, "offset"),
        ({"capacity": 0}, ""),
        ({"title": "x" * 201}, ""),
        ({"unknown": 1}, ""),
    ],
)
def test_bad_schedules_are_refused(
    workshop_node: Node, change: dict[str, Any], fragment: str
) -> None:
    _, teacher = workshop_node.register("instructor")
    body = {
        "title": "T",
        "time_zone": "UTC",
        "start": "2030-03-22T18:00:00",
        "duration_minutes": 60,
        "capacity": 3,
        **change,
    }
    refused = problem(call(workshop_node, teacher, "POST", "/api/v1/workshops", json=body), 422)
    assert fragment in str(refused)


def test_malformed_nested_and_unauthorized_bodies(workshop_node: Node) -> None:
    _, teacher = workshop_node.register("instructor")
    _, student = workshop_node.register()
    path = "/api/v1/workshops"
    headers = {"content-type": "application/json"}
    problem(call(workshop_node, teacher, "POST", path, content=b"{nope", headers=headers), 422)
    nested = b'{"title": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    problem(call(workshop_node, teacher, "POST", path, content=nested, headers=headers), 400)
    huge = {"title": "T", "description": "x" * 3_000_000}
    assert call(workshop_node, teacher, "POST", path, json=huge).status_code == 413
    problem(call(workshop_node, student, "POST", path, json={"title": "T"}), 403)
    problem(call(workshop_node, "", "GET", path), 401)


def test_waitlist_promotes_first_waiting_by_email_and_offers_lapse(
    workshop_node: Node, smtp: SmtpServer
) -> None:
    _, teacher = workshop_node.register("instructor")
    people = [workshop_node.register() for _ in range(5)]
    created = workshop(workshop_node, teacher, capacity=2, confirm_minutes=60)
    path = f"/api/v1/workshops/{created['id']}/registrations"
    regs = [ok(call(workshop_node, token, "POST", path)) for _, token in people]
    assert [r["status"] for r in regs] == ["registered"] * 2 + ["waitlisted"] * 3
    assert [r["waitlist_position"] for r in regs[2:]] == [1, 2, 3]
    assert problem(call(workshop_node, people[0][1], "POST", path), 409)["reason"] == "duplicate"

    # Someone else's registration is not found; only the owner acts on it.
    other = f"/api/v1/workshop-registrations/{regs[1]['id']}/cancel"
    problem(call(workshop_node, people[2][1], "POST", other), 404)
    # The organiser sees everyone in arrival order; a learner may not.
    listed = ok(call(workshop_node, teacher, "GET", path, params={"limit": 2}))
    assert [r["arrival"] for r in listed["items"]] == [1, 2] and listed["next"]
    rest = ok(call(workshop_node, teacher, "GET", path, params={"cursor": listed["next"]}))
    assert [r["arrival"] for r in rest["items"]] == [3, 4, 5] and rest["next"] is None
    problem(call(workshop_node, people[0][1], "GET", path), 403)
    problem(call(workshop_node, teacher, "GET", path, params={"cursor": "bogus!"}), 422)

    # A seat frees: the first waiting (third to arrive) is offered it and told by e-mail.
    ok(call(workshop_node, people[1][1], "POST", other))
    mail = smtp.wait_for(people[2][0], where=_offer)
    assert "Confirm your seat before" in mail[0].text
    mine = f"/api/v1/workshop-registrations/{regs[2]['id']}"
    seen = ok(call(workshop_node, people[2][1], "GET", f"/api/v1/workshops/{created['id']}"))
    assert seen["my_registration"]["status"] == "offered" and seen["seats_left"] == 0
    later = f"/api/v1/workshop-registrations/{regs[3]['id']}/confirm"
    assert problem(call(workshop_node, people[3][1], "POST", later), 409)["reason"] == (
        "not_offered"
    )
    assert ok(call(workshop_node, people[2][1], "POST", f"{mine}/confirm"))["status"] == (
        "registered"
    )

    # The next seat's offer lapses unconfirmed: it goes to the one after.
    ok(
        call(
            workshop_node,
            people[0][1],
            "POST",
            f"/api/v1/workshop-registrations/{regs[0]['id']}/cancel",
        )
    )
    asyncio.run(_backdate_offer(workshop_node, regs[3]["id"]))
    lapsed = problem(call(workshop_node, people[3][1], "POST", later), 409)
    assert lapsed["reason"] == "lapsed"
    smtp.wait_for(people[4][0], where=_offer)
    last = ok(call(workshop_node, people[4][1], "GET", f"/api/v1/workshops/{created['id']}"))
    assert last["my_registration"]["status"] == "offered"
    # The one whose offer lapsed is told so.
    smtp.wait_for(people[3][0], where=_lapsed)

    # Nobody confirms the last offer: at its time the job lapses it (and says so); with
    # nobody left waiting the seat is free again.
    asyncio.run(_backdate_offer(workshop_node, regs[4]["id"], run_job=True))
    smtp.wait_for(people[4][0], where=_lapsed)
    after = ok(call(workshop_node, people[4][1], "GET", f"/api/v1/workshops/{created['id']}"))
    assert after["my_registration"]["status"] == "expired" and after["seats_left"] == 1


def test_an_offer_made_just_before_the_start_ends_at_the_start(
    workshop_node: Node, smtp: SmtpServer
) -> None:
    """With 60 minutes to confirm but the first session 30 minutes away, the offer's
    deadline is the start, not after it."""
    _, teacher = workshop_node.register("instructor")
    (_, first), (second_email, second) = workshop_node.register(), workshop_node.register()
    start = datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(minutes=30)
    created = workshop(
        workshop_node,
        teacher,
        start=start.replace(tzinfo=None, microsecond=0).isoformat(),
        capacity=1,
        confirm_minutes=60,
        cancel_cutoff_minutes=0,
    )
    path = f"/api/v1/workshops/{created['id']}/registrations"
    held = ok(call(workshop_node, first, "POST", path))
    assert ok(call(workshop_node, second, "POST", path))["status"] == "waitlisted"
    ok(call(workshop_node, first, "POST", f"/api/v1/workshop-registrations/{held['id']}/cancel"))
    smtp.wait_for(second_email, where=_offer)
    seen = ok(call(workshop_node, second, "GET", f"/api/v1/workshops/{created['id']}"))
    offer = seen["my_registration"]
    assert offer["status"] == "offered"
    first_start = datetime.fromisoformat(created["first_start"])
    assert datetime.fromisoformat(offer["offered_until"]) == first_start


def _offer(mail: Received) -> bool:
    return "A seat is free in Intro to pandas" in mail.subject


def _lapsed(mail: Received) -> bool:
    return "Your seat offer in Intro to pandas lapsed" in mail.subject


async def _backdate_offer(node: Node, registration_id: str, *, run_job: bool = False) -> None:
    """Put the offer's deadline in the past (and, with ``run_job``, its expiry job now)."""
    now = datetime.now(UTC)
    async with node_sessions(node) as sessions, sessions() as session:
        await session.execute(
            update(WorkshopRegistration)
            .where(WorkshopRegistration.id == uuid.UUID(registration_id))
            .values(offered_until=now - timedelta(minutes=1))
        )
        if run_job:
            jobs = await session.execute(select(Job).where(Job.name == "workshops.expire_offer"))
            ids = [j.id for j in jobs.scalars() if j.args["registration_id"] == registration_id]
            assert ids
            await session.execute(update(Job).where(Job.id.in_(ids)).values(run_at=now))
        await session.commit()


def test_deadlines_cancelled_and_closed_workshops(workshop_node: Node) -> None:
    _, teacher = workshop_node.register("instructor")
    _, other_teacher = workshop_node.register("instructor")
    (_, first), (_, second), (_, third) = (workshop_node.register() for _ in range(3))
    tight = workshop(
        workshop_node, teacher, capacity=1, start=soon(2), cancel_cutoff_minutes=7 * 1440
    )
    path = f"/api/v1/workshops/{tight['id']}/registrations"
    seat = ok(call(workshop_node, first, "POST", path))
    waiting = ok(call(workshop_node, second, "POST", path))
    seat_cancel = f"/api/v1/workshop-registrations/{seat['id']}/cancel"
    assert problem(call(workshop_node, first, "POST", seat_cancel), 409)["reason"] == "deadline"
    # Leaving the waitlist is always possible.
    wait_cancel = f"/api/v1/workshop-registrations/{waiting['id']}/cancel"
    assert ok(call(workshop_node, second, "POST", wait_cancel))["status"] == "cancelled"
    problem(call(workshop_node, second, "POST", wait_cancel), 409)

    # Only the organiser cancels; then nobody registers.
    cancel = f"/api/v1/workshops/{tight['id']}/cancel"
    problem(call(workshop_node, other_teacher, "POST", cancel), 403)
    problem(call(workshop_node, first, "POST", cancel), 403)
    assert ok(call(workshop_node, teacher, "POST", cancel))["status"] == "cancelled"
    assert problem(call(workshop_node, third, "POST", path), 409)["reason"] == "cancelled"
    problem(call(workshop_node, teacher, "POST", cancel), 409)

    started = workshop(workshop_node, teacher, start="2020-01-06T09:00:00")
    late = f"/api/v1/workshops/{started['id']}/registrations"
    assert problem(call(workshop_node, third, "POST", late), 409)["reason"] == "closed"
    full = workshop(workshop_node, teacher, capacity=1, waitlist_capacity=0)
    full_path = f"/api/v1/workshops/{full['id']}/registrations"
    ok(call(workshop_node, first, "POST", full_path))
    assert problem(call(workshop_node, second, "POST", full_path), 409)["reason"] == "full"
    problem(
        call(workshop_node, first, "POST", f"/api/v1/workshops/{uuid.uuid4()}/registrations"), 404
    )


def test_seat_race_200_for_30(workshop_node: Node) -> None:
    _, teacher = workshop_node.register("instructor")
    created = workshop(workshop_node, teacher, capacity=30, waitlist_capacity=500)
    tokens = [workshop_node.register()[1] for _ in range(200)]
    path = f"/api/v1/workshops/{created['id']}/registrations"
    results = asyncio.run(_race(workshop_node.url, path, tokens))
    assert all(r.status_code == 201 for r in results), {r.status_code for r in results}
    bodies = [r.json() for r in results]
    seated = sorted(b["arrival"] for b in bodies if b["status"] == "registered")
    waiting = sorted(
        (b["arrival"], b["waitlist_position"]) for b in bodies if b["status"] == "waitlisted"
    )
    assert seated == list(range(1, 31))
    assert [arrival for arrival, _ in waiting] == list(range(31, 201))
    # Each saw its place as it was when it arrived (the workshop row was locked).
    assert all(position == arrival - 30 for arrival, position in waiting)
    after = ok(call(workshop_node, teacher, "GET", f"/api/v1/workshops/{created['id']}"))
    assert after["seats_left"] == 0
    listed = ok(call(workshop_node, teacher, "GET", path, params={"limit": 200}))
    assert [r["waitlist_position"] for r in listed["items"][30:]] == list(range(1, 171))


async def _race(base: str, path: str, tokens: list[str]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=base, timeout=120.0, limits=limits) as client:
        start = asyncio.Event()

        async def one(token: str) -> httpx.Response:
            await start.wait()
            return await client.post(path, headers={"Authorization": f"Bearer {token}"})

        tasks = [asyncio.create_task(one(t)) for t in tokens]
        await asyncio.sleep(0)
        start.set()
        return await asyncio.gather(*tasks)


def test_export_and_erasure_pass_the_seat_on(workshop_node: Node) -> None:
    _, teacher = workshop_node.register("instructor")
    (_, leaver), (_, waiting) = (workshop_node.register() for _ in range(2))
    created = workshop(workshop_node, teacher, capacity=1, title="Erasure")
    path = f"/api/v1/workshops/{created['id']}/registrations"
    ok(call(workshop_node, leaver, "POST", path))
    ok(call(workshop_node, waiting, "POST", path))
    exported = ok(call(workshop_node, leaver, "GET", "/api/v1/users/me/export"))
    assert [r["status"] for r in exported["workshops"]] == ["registered"]
    erased = call(workshop_node, leaver, "DELETE", "/api/v1/users/me", json={"password": PASSWORD})
    assert erased.status_code < 300, erased.text
    seen = ok(call(workshop_node, waiting, "GET", f"/api/v1/workshops/{created['id']}"))
    assert seen["my_registration"]["status"] == "offered"
    listed = ok(call(workshop_node, teacher, "GET", path))
    assert [r["status"] for r in listed["items"]] == ["offered"]
