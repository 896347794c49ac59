"""Default deny: every route, HTTP or WebSocket, declares an access rule."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from ops.guards import UnguardedRouteError, channel, join_token, public, unguarded_routes


async def endpoint(websocket: WebSocket) -> None:
    await websocket.close()


def test_a_channel_carries_its_rule_and_a_bare_websocket_route_is_refused() -> None:
    router = APIRouter()
    router.routes.append(channel("/ws/ok", endpoint, rule=join_token))
    router.routes.append(WebSocketRoute("/ws/bare", endpoint))

    @router.get("/open", dependencies=[Depends(public)])
    def open_route() -> None: ...

    @router.get("/forgotten")
    def forgotten() -> None: ...

    assert unguarded_routes([router]) == ["WS /ws/bare", "GET /forgotten"]


def test_a_channel_rule_must_be_an_access_rule() -> None:
    def not_a_rule() -> None: ...

    with pytest.raises(UnguardedRouteError):
        channel("/ws/x", endpoint, rule=not_a_rule)
