"""Workshops in real Chromium, the main flow: an organiser schedules a weekly workshop with
one seat through the recurrence builder; learner A registers, learner B joins the waitlist;
A cancels, B is promoted (the offer arrives by e-mail through a real SMTP server), confirms
before the deadline, sees the session in My calendar, and joins the room when the session
starts; the organiser sees the registrations and the attendance recorded when the room
ends. The pages pass axe at 390 px and the catalogue's filters work."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from a11ykit import expect_no_violations, no_horizontal_scroll
from browserkit import Person, launch_browser, log_in, new_person
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlalchemy import select, update

from kits.nodes import Node, node_sessions, start_node
from kits.smtp import SmtpServer, smtp_server
from persistence.models import Job, WorkshopOccurrence

PHONE: ViewportSize = {"width": 390, "height": 800}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser()


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def ws_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer
) -> Iterator[Node]:
    env = {"LIVECLASS_JOBS_POLL_SECONDS": "0.2"}
    yield from start_node(
        tmp_path_factory.mktemp("workshop-pages"), "sqlite", request, **smtp.env, **env
    )


def api(node: Node, email: str, method: str, path: str, **kw: Any) -> Any:
    with node.client(node.login(email)) as client:
        response = client.request(method, path, **kw)
    assert response.status_code < 300, response.text
    return response.json() if response.content else None


def axe(page: Page, state: str) -> None:
    expect_no_violations(page, state)
    assert no_horizontal_scroll(page), state


async def start_session_now(node: Node, workshop_id: str) -> None:
    """The clock reaches session 1's start: it and its opening job move to now."""
    now = datetime.now(UTC)
    async with node_sessions(node) as sessions, sessions() as session:
        occurrence = (
            await session.execute(
                select(WorkshopOccurrence).where(
                    WorkshopOccurrence.workshop_id == uuid.UUID(workshop_id),
                    WorkshopOccurrence.number == 1,
                )
            )
        ).scalar_one()
        occurrence.starts_at, occurrence.ends_at = (
            now - timedelta(seconds=1),
            now + timedelta(hours=1),
        )
        jobs = (
            await session.execute(select(Job).where(Job.name == "workshops.open_session"))
        ).scalars()
        ids = [j.id for j in jobs if j.args.get("occurrence_id") == occurrence.id]
        await session.execute(update(Job).where(Job.id.in_(ids)).values(run_at=now))
        await session.commit()


def test_workshop_main_flow(chromium: Browser, ws_node: Node, smtp: SmtpServer) -> None:
    organiser = new_person(chromium, ws_node, "Olga Organiser", "instructor")
    a = new_person(chromium, ws_node, "Ann Early")
    b = new_person(chromium, ws_node, "Ben Waiting")
    people: list[Person] = [organiser, a, b]
    try:
        for person in people:
            person.page.set_viewport_size(PHONE)
        page = organiser.page
        log_in(organiser, "/workshops/new")
        expect(page.get_by_role("heading", name="Schedule a workshop")).to_be_visible()
        axe(page, "the workshop editor")
        page.get_by_label("Title", exact=True).fill("Pandas weekly")
        page.get_by_label("Description").fill("Data frames, live.")
        page.get_by_label("Time zone").select_option("Europe/Berlin")
        day = date.today() + timedelta(days=8)
        page.get_by_label("First session starts").fill(f"{day.isoformat()}T18:00")
        page.get_by_label("Length of a session (minutes)").fill("60")
        page.get_by_label("Repeat").select_option("WEEKLY")
        page.get_by_label("Number of sessions").fill("3")
        expect(page.get_by_test_id("rrule")).to_have_text("Recurrence rule: FREQ=WEEKLY;COUNT=3")
        page.get_by_label("Seats", exact=True).fill("1")
        page.get_by_role("button", name="Schedule").click()
        expect(page.get_by_role("heading", name="Manage: Pandas weekly")).to_be_visible()
        workshop_id = page.url.split("/workshops/")[1].split("/")[0]
        made = api(ws_node, organiser.email, "GET", f"/api/v1/workshops/{workshop_id}")
        assert made["rrule"] == "FREQ=WEEKLY;COUNT=3" and len(made["occurrences"]) == 3
        assert made["time_zone"] == "Europe/Berlin" and made["capacity"] == 1
        axe(page, "the organiser's page")

        # A finds it in the catalogue and takes the only seat.
        log_in(a, "/workshops")
        card = a.page.locator(f'[data-workshop-id="{workshop_id}"]')
        expect(card).to_contain_text("1 seat left")
        axe(a.page, "the catalogue")
        card.get_by_role("link", name="Pandas weekly").click()
        a.page.get_by_role("button", name="Register").click()
        expect(a.page.get_by_test_id("my-place")).to_have_text("You have a seat.")
        axe(a.page, "a workshop with a seat")

        # B finds it full and joins the waitlist.
        log_in(b, f"/workshops/{workshop_id}")
        expect(b.page.get_by_test_id("seats")).to_contain_text("Full")
        b.page.get_by_role("button", name="Join the waitlist").click()
        expect(b.page.get_by_test_id("my-place")).to_have_text("You are number 1 on the waitlist.")
        # The filters: a full workshop with room on its waitlist is still available.
        b.page.goto("/workshops")
        b.page.get_by_label("Title contains").fill("no such workshop")
        b.page.get_by_role("button", name="Search").click()
        expect(b.page.get_by_text("No workshops match.")).to_be_visible()
        b.page.get_by_label("Title contains").fill("pandas")
        b.page.get_by_label("Only with a seat or waitlist place left").check()
        b.page.get_by_role("button", name="Search").click()
        expect(b.page.locator(f'[data-workshop-id="{workshop_id}"]')).to_contain_text(
            "number 1 on the waitlist"
        )

        # A cancels before the deadline: B is offered the seat by e-mail and confirms.
        a.page.get_by_role("button", name="Cancel my registration").click()
        a.page.get_by_role("button", name="Give it up").click()
        # The seat is held for B: A could only join the waitlist now.
        expect(a.page.get_by_role("button", name="Join the waitlist")).to_be_visible()
        mail = smtp.wait_for(
            b.email, where=lambda m: "A seat is free in Pandas weekly" in m.subject
        )
        assert "Confirm your seat before" in mail[0].text
        b.page.goto(f"/workshops/{workshop_id}")
        expect(b.page.get_by_test_id("my-place")).to_contain_text("A seat is free for you")
        axe(b.page, "a workshop with a seat offered")
        b.page.get_by_role("button", name="Confirm my seat").click()
        expect(b.page.get_by_test_id("my-place")).to_have_text("You have a seat.")

        # B's calendar lists the three sessions and the personal feed to subscribe to.
        b.page.goto("/calendar")
        sessions = b.page.get_by_role("list", name="My upcoming sessions").get_by_role("listitem")
        expect(sessions).to_have_count(3)
        expect(b.page.get_by_label("My calendar feed address")).to_have_value(
            re.compile(r"/api/v1/calendars/.+\.ics\?")
        )
        b.page.get_by_role("button", name="Next week").click()
        axe(b.page, "my calendar")

        # The organiser sees who holds the seat and who gave it up.
        page.reload()
        rows = page.get_by_role("table", name="Registrations")
        expect(rows.locator(f'[data-user-id="{ws_node.user_id(b.email)}"]')).to_contain_text("seat")
        expect(rows.locator(f'[data-user-id="{ws_node.user_id(a.email)}"]')).to_contain_text(
            "cancelled"
        )

        # The first session starts: its room opens and B joins from the workshop page.
        with ThreadPoolExecutor(1) as pool:  # Playwright's own loop runs in this thread
            pool.submit(asyncio.run, start_session_now(ws_node, workshop_id)).result()
        b.page.goto(f"/workshops/{workshop_id}")
        join = b.page.get_by_role("button", name="Join room")
        for _ in range(60):
            if join.count():
                break
            b.page.wait_for_timeout(500)
            b.page.reload()
        join.click()
        expect(b.page).to_have_url(re.compile(r"/rooms/[0-9a-f-]{36}$"))
        room = b.page.url.rsplit("/", 1)[1]
        expect(b.page.locator(".room-title")).to_have_text("Pandas weekly")
        # A gave up the seat: the room is not theirs to join.
        refused = httpx.post(
            f"{ws_node.url}/api/v1/workshops/{workshop_id}/sessions/1/join",
            headers={"Authorization": f"Bearer {ws_node.login(a.email)}"},
        )
        assert refused.status_code == 403 and refused.json()["reason"] == "not_registered"
        b.page.wait_for_timeout(1100)
        api(ws_node, organiser.email, "POST", f"/api/v1/rooms/{room}/end")

        # The attendance is written back and the organiser reads it.
        page.reload()
        table = page.get_by_role("table", name="Attendance at session 1")
        for _ in range(60):
            page.get_by_role("button", name="Refresh attendance").click()
            if page.get_by_text("Recorded when the session closed.").count():
                break
            page.wait_for_timeout(500)
        expect(page.get_by_text("Recorded when the session closed.")).to_be_visible()
        expect(table.locator(f'[data-user-id="{ws_node.user_id(b.email)}"]')).to_contain_text(
            "attended"
        )
        axe(page, "the organiser's attendance")
        for person in people:
            assert not person.errors, person.errors
    finally:
        for person in people:
            person.close()
