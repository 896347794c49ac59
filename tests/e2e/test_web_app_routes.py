"""How a node serves the browser app: its pages, its assets, and nothing it should not."""

from __future__ import annotations

import re

import httpx
import pytest

from kits.nodes import Node
from kits.servers import ROOT
from static.app import APP_ROUTES

SAMPLE_ID = "6b1f0b2e-5d7c-4f43-9a43-0d7c2c1b9e11"


def client_pages(source: str) -> list[str]:
    """A path for every page the app's client-side router (static/src/main.ts) draws: its
    literal paths, and each pattern with a sample id in every id group and each of its
    alternatives, so a page the client has and the node does not serve (a reload, a shared
    link: a 404) cannot go unnoticed."""
    pages = re.findall(r"path === '(/[^']*)'", source)
    for pattern in re.findall(r"/\^(.+?)\$/\.exec\(path\)", source):
        variants = [pattern.replace("\\/", "/").replace("([0-9a-fA-F-]{36})", SAMPLE_ID)]
        while any("(" in v for v in variants):
            expanded: list[str] = []
            for variant in variants:
                group = re.search(r"\((?:\?:)?([^()]*)\)(\?)?", variant)
                if group is None:
                    raise AssertionError(f"a route pattern this test cannot read: {pattern}")
                options = group.group(1).split("|") + ([""] if group.group(2) else [])
                head, tail = variant[: group.start()], variant[group.end() :]
                expanded += [head + option + tail for option in options]
            variants = expanded
        pages += variants
    return sorted(set(pages))


APP_PAGES = client_pages((ROOT / "static" / "src" / "main.ts").read_text())


@pytest.mark.parametrize("path", APP_PAGES)
def test_app_routes_serve_the_page(sqlite_node: Node, path: str) -> None:
    response = httpx.get(sqlite_node.url + path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert '<div id="app"' in response.text
    # Everything is served by the node itself: no CDN.
    assert not re.search(r"(src|href)=\"https?://", response.text)


def test_assets_are_served_with_long_caching(sqlite_node: Node) -> None:
    page = httpx.get(sqlite_node.url + "/").text
    assets = re.findall(r"/assets/app-[A-Z0-9]+\.(?:js|css)", page)
    assert len(assets) == 2, page
    for asset in assets:
        response = httpx.get(sqlite_node.url + asset)
        assert response.status_code == 200
        assert "immutable" in response.headers["cache-control"]
        assert response.content == (ROOT / "static" / "dist" / asset.lstrip("/")).read_bytes()
    script = httpx.get(sqlite_node.url + next(a for a in assets if a.endswith(".js")))
    assert script.headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize(
    "path",
    [
        "/assets/nothing-here.js",
        "/assets/..%2F..%2Fserver.py",
        "/assets/%2e%2e/index.html",
        "/rooms/x/y/z",
        "/no-such-page",
        "/api/v1/no-such-thing",
        "/static/app.py",
    ],
)
def test_other_paths_are_not_the_app(sqlite_node: Node, path: str) -> None:
    response = httpx.get(sqlite_node.url + path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_the_app_does_not_shadow_the_api_or_operations(sqlite_node: Node) -> None:
    with httpx.Client(base_url=sqlite_node.url) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        assert client.get("/api/v1/users/me").status_code == 401
        assert "liveclass_http_requests_total" in client.get("/metrics").text
        assert client.get("/openapi.json").status_code == 200
        assert "swagger" in client.get("/docs").text.lower()
        paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p in {"/", "/login", "/signup"} or p.startswith("/assets")]
    assert not [p for p in paths if p.startswith("/rooms") or p.startswith("/join")]


def test_the_node_serves_no_page_the_app_cannot_draw() -> None:
    served = {re.sub(r"\{[a-z_]+\}", SAMPLE_ID, route) for route in APP_ROUTES}
    assert sorted(served - set(APP_PAGES)) == []
