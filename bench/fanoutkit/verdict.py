"""The issue's targets checked against the figures."""

from __future__ import annotations

from typing import Any

KEEPALIVE_PING_INTERVAL = 10.0
"""uvicorn's ws_ping_interval and ws_ping_timeout as server.py sets them."""


def drop_cause(code: int | None, after: float | None) -> str:
    """Why the stalled client was dropped, as far as a client can tell."""
    if after is None:
        return "not dropped"
    if code == 4008:
        return "send queue limit (it read close 4008 once it resumed)"
    if after < KEEPALIVE_PING_INTERVAL:
        # An unanswered ping ends the connection ping_timeout after it was sent, and the
        # first ping after the stall goes out at most ping_interval after it began.
        return "send queue limit (dropped before any keepalive timeout could fire)"
    return "unclear: keepalive timeout or send queue limit"


def seconds_since(at: int | None, since: int) -> float | None:
    return round((at - since) / 1e9, 1) if at else None


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if not ours or not theirs:
        return None
    return round(ours / theirs, 3)


def verdict(ours: dict[str, Any], ceiling: dict[str, Any]) -> dict[str, Any]:
    """Ratios (ours / ceiling) and the issue's targets."""
    fan, top = ours.get("fanout", {}), ceiling.get("fanout", {})
    lat, top_lat = fan.get("latency_ms", {}), top.get("latency_ms", {})
    idle = ours.get("idle", {}).get("bytes_per_connection")
    ratios = {
        "deliveries_per_s": ratio(fan.get("deliveries_per_s"), top.get("deliveries_per_s")),
        "deliveries_per_server_cpu_s": ratio(
            fan.get("deliveries_per_server_cpu_s"), top.get("deliveries_per_server_cpu_s")
        ),
        "p50_latency": ratio(lat.get("p50"), top_lat.get("p50")),
        "p99_latency": ratio(lat.get("p99"), top_lat.get("p99")),
        "idle_bytes_per_connection": ratio(
            idle, ceiling.get("idle", {}).get("bytes_per_connection")
        ),
    }
    stalled = ours.get("stalled", {})
    p99 = lat.get("p99")
    stalled_p99 = stalled.get("with_stalled_client", {}).get("latency_ms", {}).get("p99")

    def at_least(value: float | None, bound: float) -> bool | None:
        return None if value is None else value >= bound

    def under(value: float | None, bound: float) -> bool | None:
        return None if value is None else value < bound

    targets = {
        "deliveries_at_least_60pct_of_ceiling": at_least(ratios["deliveries_per_s"], 0.6),
        "deliveries_per_cpu_at_least_60pct_of_ceiling": at_least(
            ratios["deliveries_per_server_cpu_s"], 0.6
        ),
        "p99_under_100ms": under(p99, 100),
        "idle_connection_under_30KB": under(idle, 30_000),
        "stalled_client_dropped": stalled.get("stalled_dropped"),
        "p99_with_stalled_client_under_100ms": under(stalled_p99, 100),
    }
    return {"ratios_ours_over_ceiling": ratios, "targets_met": targets}
