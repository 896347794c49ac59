"""The route index (ops.routing) picks exactly the route FastAPI's linear scan picks: for
every route of the app, with its own methods and others (405s), over HTTP and WebSocket,
and for unknown paths, trailing slashes and paths that share only a prefix."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from ops.routing import RouteIndex, first_match, literal_segments, path_key, route_paths
from server import create_app
from settings import Settings

SAMPLES = {
    "": "abc",
    "str": "abc",
    "path": "a/b.txt",
    "int": "7",
    "float": "1.5",
    "uuid": str(uuid.UUID(int=7)),
}
PARAM = re.compile(r"{([^}:]+)(?::([^}]+))?}")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ODD_PATHS = (
    "/",
    "/api",
    "/api/",
    "/api/v1",
    "/api/v1/",
    "/api/v1/nothing-here",
    "/api/v1/courses/",
    "/api/v1/coursesx",
    "/api/v2/courses",
    "/healthz/",
    "/healthzz",
    "/nothing",
    "//api/v1/courses",
    "/assets",
    "/assets/",
    "/ws/rooms",
    "/yjs",
    "/yjs/",
    "/blobs",
    "/media/x",
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    data_dir: Path = tmp_path_factory.mktemp("route-index")
    return create_app(Settings(data_dir=data_dir, secret_key=""), run_migrations=False)


def concrete(path_format: str) -> str:
    """A request path the route path ``path_format`` matches (sample values for params)."""
    return PARAM.sub(lambda m: SAMPLES[m.group(2) or ""], path_format)


def app_paths(app: FastAPI) -> Iterator[str]:
    """A concrete path for every route of the app, its trailing-slash twin, and odd ones."""
    for route in app.router.routes:
        for path in route_paths(route) or []:
            yield concrete(path)
            yield concrete(path).rstrip("/") + "/"
            yield concrete(path) + "x"
    yield from ODD_PATHS


def scope(kind: str, method: str, path: str) -> dict[str, object]:
    base: dict[str, object] = {
        "type": kind,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "app": None,
    }
    if kind == "http":
        base["method"] = method
    return base


def test_the_index_picks_what_the_linear_scan_picks(app: FastAPI) -> None:
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    checked = 0
    for path in sorted(set(app_paths(app))):
        kinds = [("http", m) for m in METHODS] + [("websocket", "")]
        for kind, method in kinds:
            linear = first_match(app.router.routes, scope(kind, method, path))
            indexed = index.select(scope(kind, method, path))
            assert indexed[0] == linear[0], (kind, method, path)
            assert indexed[1] is linear[1], (kind, method, path)
            assert indexed[2] == linear[2], (kind, method, path)
            checked += 1
    assert checked > 2000


def test_every_route_is_found_fully_through_the_index(app: FastAPI) -> None:
    """Each route's own path and first method is a full match (not a 404 by the index)."""
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    for route in app.router.routes:
        for path in route_paths(route) or []:
            methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
            matches = [index.select(scope("http", m, concrete(path)))[0] for m in methods]
            found = index.select(scope("websocket", "", concrete(path)))[0]
            assert any(m.value > 0 for m in [*matches, found]), path


def test_literal_segments() -> None:
    assert literal_segments("/api/v1/courses/{course_id}") == ("api", "v1", "courses")
    assert literal_segments("/api/v1/courses/{course_id}/x/y") == ("api", "v1", "courses")
    assert literal_segments("/api/v1") == ("api", "v1")
    assert literal_segments("/healthz") == ("healthz",)
    assert literal_segments("/x-{id}") == ()
    assert literal_segments("/{id}") == ()
    assert literal_segments("/") == ("",)
    assert literal_segments("assets") == ()
    assert path_key("/") == ("",)
    assert path_key("/api/v1/courses/1/2") == ("api", "v1", "courses")
    assert path_key("/api") == ("api",)


def test_mounts_hosts_and_routes_after_them_keep_their_order() -> None:
    """A mount serves everything under its prefix, a Host any path: the index keeps both
    candidates where the linear scan would meet them."""
    from fastapi import APIRouter
    from starlette.routing import Host, Mount
    from starlette.staticfiles import StaticFiles

    app = FastAPI()
    early = APIRouter()
    early.add_api_route("/files/{name}", lambda name: name, methods=["GET"])
    app.include_router(early)
    app.router.routes.append(Mount("/assets", app=StaticFiles(directory=".", check_dir=False)))
    app.router.routes.append(Host("api.example.org", app=FastAPI()))
    late = APIRouter()
    late.add_api_route("/assets/late", lambda: "late", methods=["GET"])
    late.add_api_route("/other/{x:path}", lambda x: x, methods=["POST"])
    app.include_router(late)
    index = RouteIndex.install(app.router)
    paths = ["/assets/a.js", "/assets/late", "/assets", "/files/x", "/other/a/b", "/nope", "/"]
    for path in paths:
        for method in ("GET", "POST"):
            linear = first_match(app.router.routes, scope("http", method, path))
            indexed = index.select(scope("http", method, path))
            assert indexed[:2] == linear[:2], (method, path)
    assert isinstance(index.select(scope("http", "GET", "/assets/late"))[1], Mount)
