"""Real Chromium for the end-to-end tests: Debian's /usr/bin/chromium driven by Playwright.

Each person is a separate browser context (own cookies, storage and network, as separate
machines would be). Screenshots of every page state go to ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright

from kits.nodes import Node
from kits.servers import IN_CI, ROOT

CHROMIUM = Path(os.environ.get("LIVECLASS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]
SHOTS = ROOT / "test-artifacts" / "e2e"
PASSWORD = "correct-horse-battery"
EXPECT_TIMEOUT_MS = 20_000


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"end-to-end tests need it under CI: {reason}")
    pytest.skip(reason)


def launch_browser(*extra_args: str) -> Iterator[Browser]:
    """Chromium for a test module's fixture (``yield from launch_browser()``), plus flags."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args], headless=True
        )
        yield launched
        launched.close()


def shot(page: Page, name: str) -> None:
    """Save a screenshot of the page as it is now."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


@dataclass
class Person:
    """Someone in front of a browser: their account and their own browser context."""

    name: str
    email: str
    context: BrowserContext
    page: Page
    errors: list[str]

    def close(self) -> None:
        self.context.close()


def create_account(base_url: str, name: str, email: str) -> None:
    """Register an account over the API (faster than the sign-up page)."""
    response = httpx.post(
        f"{base_url}/api/v1/auth/register",
        json={"email": email, "password": PASSWORD, "name": name},
        timeout=30,
    )
    assert response.status_code == 201, response.text


def open_browser(browser: Browser, base_url: str, name: str, email: str, **options: Any) -> Person:
    """A new browser context for ``name`` (not signed in yet)."""
    options.setdefault("viewport", {"width": 1280, "height": 800})
    context = browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return Person(name, email, context, page, errors)


def log_in(person: Person, path: str = "/") -> None:
    """Sign in through the login page, landing on ``path``."""
    page = person.page
    page.goto(path)
    expect(page.get_by_role("heading", name="Log in to liveclass")).to_be_visible()
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Log in to liveclass")).to_have_count(0)


def room_id_of(page: Page) -> str:
    found = re.search(r"/rooms/([0-9a-f-]{36})", page.url)
    assert found, page.url
    return found.group(1)


def side_tab(page: Page, name: str) -> None:
    """Open a tab of the room's side panel (Chat, People, Polls, Breakouts, Host)."""
    page.get_by_role("tab", name=re.compile(f"^{name}")).click()


def stage_tab(page: Page, name: str) -> None:
    """Show the whiteboard or the notes."""
    page.get_by_role("tab", name=name, exact=True).click()


def send_chat(page: Page, text: str, to: str | None = None) -> None:
    side_tab(page, "Chat")
    if to is not None:
        page.get_by_label("Send to").select_option(label=to)
    box = page.get_by_role("textbox", name="Chat message", exact=True)
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")


def chat_message(page: Page, text: str) -> Any:
    """The chat message (article) holding ``text``."""
    return page.locator(".chat-list article.msg").filter(has_text=text)


def board(page: Page) -> Any:
    return page.locator("svg.board-svg")


def drag_on_board(page: Page, points: list[tuple[float, float]]) -> None:
    """Press, move through ``points`` (fractions of the board's size) and release."""
    box = board(page).bounding_box()
    assert box is not None
    coords = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*coords[0])
    page.mouse.down()
    for x, y in coords[1:]:
        page.mouse.move(x, y, steps=6)
    page.mouse.up()


def click_on_board(page: Page, fx: float, fy: float) -> None:
    box = board(page).bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])


_ids = itertools.count()


def new_person(chromium: Browser, node: Node, name: str, role: str = "student") -> Person:
    """A fresh account (with ``role``) signed in on its own page."""
    email = f"{name.split()[0].lower()}{next(_ids)}-{os.getpid()}@example.org"
    create_account(node.url, name, email)
    if role != "student":
        node.set_role(email, role)
    return open_browser(chromium, node.url, name, email)


def put_in_order(ordering: Locator, wanted: list[str]) -> None:
    """Order a quiz's ordering question with its move buttons (what a keyboard user does)."""
    for _ in range(len(wanted) * len(wanted)):
        texts = ordering.locator("li span").all_inner_texts()
        if texts == wanted:
            break
        for index, text in enumerate(texts):
            if index and wanted.index(text) < wanted.index(texts[index - 1]):
                ordering.get_by_role("button", name=f"Move \u201c{text}\u201d up").click()
                break
    expect(ordering.locator("li span")).to_have_text(wanted)
