"""``/docs`` in real Chromium: Swagger UI runs under its content policy, loads nothing from
elsewhere, and a call made with "Try it out" reaches the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browserkit import EXPECT_TIMEOUT_MS, launch_browser, shot
from playwright.sync_api import Browser, expect

from kits.nodes import Node


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_browser()


def test_docs_run_from_our_origin_alone(sqlite_node: Node, browser: Browser) -> None:
    context = browser.new_context(base_url=sqlite_node.url)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    page = context.new_page()
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        page.goto("/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("liveclass")
        operation = page.locator(".opblock-summary", has_text="/healthz").first
        operation.click()
        page.get_by_role("button", name="Try it out").click()
        page.get_by_role("button", name="Execute").click()
        status = page.locator(".live-responses-table .response .response-col_status").first
        expect(status).to_have_text("200")
        shot(page, "api-docs")
    finally:
        context.close()
    assert requested
    foreign = [url for url in requested if not url.startswith(sqlite_node.url + "/")]
    assert foreign == []
    # A script or style refused by the content policy shows up as a console error.
    assert problems == []
