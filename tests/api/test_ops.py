"""Operational endpoints of a real node: health, readiness, Prometheus metrics, request ids
and the JSON access log, on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import email.utils
import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kits.nodes import Node, start_node
from kits.servers import PostgresServer, wait_for

GENERATED_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
POOL_SIZE = 3


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def ops_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node logging at info level (so access lines are written) with a small DB pool."""
    yield from start_node(
        tmp_path_factory.mktemp("ops"),
        request.param,
        request,
        LIVECLASS_LOG_LEVEL="info",
        LIVECLASS_DB_POOL_SIZE=str(POOL_SIZE),
    )


def samples(node: Node) -> list[tuple[str, dict[str, str], float]]:
    """Every sample of the node's /metrics as (name, labels, value)."""
    response = httpx.get(node.url + "/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return [
        (sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    ]


def access_lines(node: Node) -> list[dict[str, Any]]:
    """The JSON access-log entries the node wrote so far."""
    entries = []
    for line in node.server.log().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "liveclass.access":
                entries.append(entry)
    return entries


def test_healthz_answers_ok(ops_node: Node) -> None:
    response = httpx.get(ops_node.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_date_header_is_current(ops_node: Node) -> None:
    """The server refreshes its Date header once a second (its own housekeeping loop)."""
    first = email.utils.parsedate_to_datetime(httpx.get(ops_node.url + "/healthz").headers["date"])
    later = first
    for _ in range(40):  # the header must move on within a few seconds
        time.sleep(0.1)
        later = email.utils.parsedate_to_datetime(
            httpx.get(ops_node.url + "/healthz").headers["date"]
        )
        if later > first:
            break
    assert later > first
    assert abs((later - datetime.now(UTC)).total_seconds()) < 5


def test_readyz_checks_the_database(ops_node: Node) -> None:
    response = httpx.get(ops_node.url + "/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"


def test_metrics_count_requests_by_route_template_and_status(ops_node: Node) -> None:
    admin = ops_node.admin_token()
    missing_user = uuid.uuid4()
    unknown_path = f"/no-such-page-{uuid.uuid4().hex}"
    with ops_node.client(admin) as client:
        assert client.get("/api/v1/users/me").status_code == 200
        assert client.get(f"/api/v1/users/{missing_user}").status_code == 404
        assert client.get(unknown_path).status_code == 404
    with ops_node.client() as client:
        assert client.get("/api/v1/users/me").status_code == 401

    metrics = samples(ops_node)
    counted = {
        (labels["route"], labels["method"], labels["status"]): value
        for name, labels, value in metrics
        if name == "liveclass_http_requests_total"
    }
    assert counted[("/api/v1/users/me", "GET", "200")] >= 1
    assert counted[("/api/v1/users/me", "GET", "401")] >= 1
    assert counted[("/api/v1/users/{user_id}", "GET", "404")] >= 1
    assert counted[("unmatched", "GET", "404")] >= 1
    # Raw paths would give every id its own time series.
    routes = {route for route, _, _ in counted}
    assert not any(str(missing_user) in route or unknown_path in route for route in routes)


def test_metrics_have_a_latency_histogram(ops_node: Node) -> None:
    httpx.get(ops_node.url + "/healthz")
    metrics = samples(ops_node)
    buckets = [
        labels["le"]
        for name, labels, _ in metrics
        if name == "liveclass_http_request_duration_seconds_bucket"
        and labels["route"] == "/healthz"
    ]
    assert "+Inf" in buckets
    assert len(buckets) > 1
    counts = [
        value
        for name, labels, value in metrics
        if name == "liveclass_http_request_duration_seconds_count"
        and labels["route"] == "/healthz"
        and labels["method"] == "GET"
    ]
    assert counts and counts[0] >= 1


def test_metrics_export_the_database_pool(ops_node: Node, request: pytest.FixtureRequest) -> None:
    pool = {
        labels["kind"]: value
        for name, labels, value in samples(ops_node)
        if name == "liveclass_db_pool"
    }
    # The writers' pool: SQLite's writers share one connection (they queue for it in order).
    size = 1 if "sqlite" in request.node.callspec.id else POOL_SIZE
    assert pool["size"] == size
    assert 0 <= pool["checked_out"] <= 2 * size


def test_every_response_gets_a_fresh_request_id(ops_node: Node) -> None:
    with httpx.Client(base_url=ops_node.url) as client:
        responses = [
            client.get("/healthz"),
            client.get("/api/v1/users/me"),
            client.get("/nowhere"),
            client.post("/api/v1/auth/register", content=b"{"),
        ]
    ids = [response.headers.get("x-request-id") for response in responses]
    assert all(i and GENERATED_ID.match(i) for i in ids), ids
    assert len(set(ids)) == len(ids)


def test_a_sane_incoming_request_id_is_echoed(ops_node: Node) -> None:
    request_id = f"trace-{uuid.uuid4().hex[:12]}.A_1"
    response = httpx.get(ops_node.url + "/api/v1/users/me", headers={"X-Request-ID": request_id})
    assert response.status_code == 401
    assert response.headers["x-request-id"] == request_id
    assert response.json()["request_id"] == request_id


@pytest.mark.parametrize(
    "bad_id",
    ["x" * 200, "has spaces in it", "semi;colon", 'quote"d', "../../etc/passwd"],
    ids=["200-chars", "spaces", "semicolon", "quote", "slashes"],
)
def test_an_invalid_incoming_request_id_is_replaced(ops_node: Node, bad_id: str) -> None:
    response = httpx.get(ops_node.url + "/api/v1/users/me", headers={"X-Request-ID": bad_id})
    echoed = response.headers["x-request-id"]
    assert echoed != bad_id
    assert GENERATED_ID.match(echoed)
    assert response.json()["request_id"] == echoed


def test_access_log_has_request_id_route_and_status(ops_node: Node) -> None:
    request_id = f"log-{uuid.uuid4().hex}"
    user_id = uuid.uuid4()
    response = httpx.get(
        f"{ops_node.url}/api/v1/users/{user_id}", headers={"X-Request-ID": request_id}
    )
    assert response.status_code == 401

    def logged() -> list[dict[str, Any]]:
        return [e for e in access_lines(ops_node) if e.get("request_id") == request_id]

    wait_for(logged, timeout=10, what="the access-log line")
    [entry] = logged()
    assert entry["route"] == "/api/v1/users/{user_id}"
    assert entry["status"] == 401
    assert entry["method"] == "GET"
    assert entry["path"] == f"/api/v1/users/{user_id}"
    assert entry["level"] == "info"


def test_losing_the_database_fails_readiness_and_requests_cleanly(
    tmp_path: Path, request: pytest.FixtureRequest, pg_server: PostgresServer
) -> None:
    """Drop the node's PostgreSQL database under it: /readyz says so, requests get a 500
    problem that carries the request id and no internals."""
    with contextlib.contextmanager(start_node)(tmp_path, "postgres", request) as node:
        _, token = node.register()
        pg_server.drop_database(node.database_url)

        ready = httpx.get(node.url + "/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
        assert ready.json()["checks"]["database"].startswith("error")

        request_id = f"outage-{uuid.uuid4().hex[:8]}"
        with node.client(token) as client:
            failed = client.get("/api/v1/users/me", headers={"X-Request-ID": request_id})
        assert failed.status_code == 500
        assert failed.headers["content-type"] == "application/problem+json"
        assert failed.headers["x-request-id"] == request_id
        body = failed.json()
        assert body["status"] == 500
        assert body["request_id"] == request_id
        assert "Traceback" not in failed.text
        assert "asyncpg" not in failed.text

        def error_lines() -> list[dict[str, Any]]:
            lines = [json.loads(x) for x in node.server.log().splitlines() if x.startswith("{")]
            return [e for e in lines if e["level"] == "error" and e.get("request_id") == request_id]

        # The operator gets the details, once, under the id the client was given.
        wait_for(error_lines, timeout=10, what="the error log line")
        [logged] = error_lines()
        assert "Traceback" in logged["exception"]
        assert "Exception in ASGI application" not in node.server.log()
        assert httpx.get(node.url + "/healthz").status_code == 200


# ----------------------------------------------------------------- /docs and headers


def test_docs_page_loads_everything_from_our_origin(ops_node: Node) -> None:
    with httpx.Client(base_url=ops_node.url) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "default-src 'self'" in policy
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["referrer-policy"] == "same-origin"
        # Every script and stylesheet is a path on this server; no inline script.
        scripts = re.findall(r"<script\b[^>]*>", page.text)
        assert scripts and all('src="/' in tag for tag in scripts), scripts
        assert "</script>" in page.text and "<script>" not in page.text
        urls = re.findall(r'(?:src|href)="([^"]*)"', page.text)
        assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
        for url in urls:
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert asset.headers["x-content-type-options"] == "nosniff"
            assert asset.content
        start = client.get("/docs/assets/start.js").text
        assert "/openapi.json" in start and "SwaggerUIBundle" in start
        bundle = client.get("/docs/assets/swagger-ui-bundle.js")
        assert bundle.headers["content-type"].startswith("text/javascript")
        again = client.get(
            "/docs/assets/swagger-ui-bundle.js", headers={"If-None-Match": bundle.headers["etag"]}
        )
        assert again.status_code == 304
        assert client.get("/docs/assets/index.html").status_code == 404
        # FastAPI's CDN-loading pages are gone.
        assert client.get("/redoc").status_code == 404
        assert client.get("/docs/oauth2-redirect").status_code == 404


def test_every_kind_of_response_says_nosniff(ops_node: Node) -> None:
    with httpx.Client(base_url=ops_node.url) as client:
        responses = {
            "health": client.get("/healthz"),
            "readiness": client.get("/readyz"),
            "metrics": client.get("/metrics"),
            "openapi": client.get("/openapi.json"),
            "docs": client.get("/docs"),
            "web app": client.get("/"),
            "api": client.post(
                "/api/v1/auth/register",
                json={"email": f"{uuid.uuid4().hex}@example.org", "password": "x" * 12},
            ),
            "unauthorised": client.get("/api/v1/users/me"),
            "not found": client.get(f"/nowhere-{uuid.uuid4().hex}"),
            "wrong method": client.delete("/healthz"),
            "invalid": client.post("/api/v1/auth/register", content=b"{"),
        }
    for kind, response in responses.items():
        assert response.headers.get("x-content-type-options") == "nosniff", kind
