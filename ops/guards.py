"""Default deny: every route must declare its access rule, checked when the app is built."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIRouter, APIWebSocketRoute
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

F = TypeVar("F", bound=Callable[..., Any])
GUARD_ATTRIBUTE = "__liveclass_guard__"
RULE_ATTRIBUTE = "__liveclass_rule__"


class UnguardedRouteError(RuntimeError):
    """A route was registered without an access rule."""


def guard(function: F) -> F:
    """Mark a dependency as an access rule."""
    setattr(function, GUARD_ATTRIBUTE, True)
    return function


# The rules are coroutines, like every dependency on the request path: FastAPI runs a plain
# function dependency in its thread pool, a hop to a worker thread and back per request.


@guard
async def public() -> None:
    """Access rule of routes anyone may call (health, login, registration)."""


@guard
async def join_token() -> None:
    """Access rule of WebSocket channels: the join token, verified by the channel itself."""


def channel(
    path: str,
    endpoint: Callable[[WebSocket], Awaitable[None]],
    *,
    rule: Callable[[], Awaitable[None]],
) -> WebSocketRoute:
    """A plain WebSocket route carrying its access rule.

    Long-lived channels skip FastAPI's per-connection dependency solving: its exit stacks
    and frames would stay alive, a few KB each, for as long as every socket is open.
    """
    if not getattr(rule, GUARD_ATTRIBUTE, False):
        raise UnguardedRouteError(f"{path}: {rule!r} is not an access rule")
    route = WebSocketRoute(path, endpoint)
    setattr(route, RULE_ATTRIBUTE, rule)
    return route


def _guarded(route: Any) -> bool:
    if isinstance(route, APIRoute | APIWebSocketRoute):
        return _has_guard(route.dependant)
    rule = getattr(route, RULE_ATTRIBUTE, None)
    return isinstance(route, WebSocketRoute) and bool(getattr(rule, GUARD_ATTRIBUTE, False))


def _has_guard(dependant: Dependant) -> bool:
    if getattr(dependant.call, GUARD_ATTRIBUTE, False):
        return True
    return any(_has_guard(sub) for sub in dependant.dependencies)


def unguarded_routes(routers: Iterable[APIRouter]) -> list[str]:
    """The ``METHOD path`` of every route in ``routers`` that declares no access rule."""
    missing = []
    for router in routers:
        for route in router.routes:
            if _guarded(route):
                continue
            methods = ",".join(sorted(getattr(route, "methods", None) or {"WS"}))
            missing.append(f"{methods} {getattr(route, 'path', route)}")
    return missing


def assert_all_guarded(routers: Iterable[APIRouter]) -> None:
    """Refuse to build an app with a route that has no access rule."""
    if missing := unguarded_routes(routers):
        raise UnguardedRouteError("routes without an access rule: " + "; ".join(missing))
