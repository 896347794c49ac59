"""Route matching through an index of path prefixes, instead of trying every route in turn.

FastAPI matches a request by asking each of the app's routes, in order, whether it matches
(``APIRouter.app``); the app includes some fifty routers and 350 routes, so a request for a
router near the end (payments, labs) first runs the path regex of nearly all the others
(measured: ~5-13% of a node's CPU per API request). ``RouteIndex`` replaces only that
first scan: it knows, for each top-level route, the literal path segments its routes start
with (``/api/v1/courses/{course_id}`` starts with ``api``, ``v1``, ``courses``), and asks
only the routes that can match a path with the request's first segments, in their
original order. Everything after -- the selected router's own matching, the handling, the
405 (a path match with another method is a partial match, kept), trailing-slash redirects,
low-priority routes and the 404 -- is FastAPI's own: when no candidate matches, the request
goes through the stock ``APIRouter.app`` unchanged.

Why it picks what the linear scan picks: a route whose path starts with the literal
segments ``L`` matches only paths whose first segments are ``L`` (Starlette compiles a
route path to an anchored regex: the literal text before the first ``{`` is matched
verbatim). The candidates of a path are every route whose literal segments are a prefix of
the path's, so no route left out could have matched, fully or partially; the first full
match (else the first partial one) among the candidates, kept in order, is the linear
scan's. Routes whose shape is not known (a ``Host``, a frontend group, anything new) have
no literal segments and are candidates for every path. ``tests/unit/test_route_index.py``
checks the choice against the linear scan for every route of the app.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import (  # FastAPI's own steps after a match, reused as they are
    APIRoute,
    _apply_router_form_limits,
    _IncludedRouter,
    _update_scope,
)
from fastapi.telemetry._api import _route_selected
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

DEPTH = 3
"""How many leading path segments the index tells apart (``api``, ``v1``, the domain)."""


def literal_segments(path: str) -> tuple[str, ...]:
    """The whole path segments a route path starts with before its first parameter, at most
    ``DEPTH`` of them: ``/api/v1/courses/{id}`` -> ``(api, v1, courses)``, ``/x-{id}`` ->
    ``()`` (a segment holding a parameter is not literal)."""
    if not path.startswith("/"):
        return ()
    head, brace, _ = path.partition("{")
    if brace:
        head = head.rsplit("/", 1)[0]
    return tuple(head.split("/")[1:])[:DEPTH]


def path_key(path: str) -> tuple[str, ...]:
    """The first ``DEPTH`` segments of a request path (``/`` -> ``("",)``)."""
    return tuple(path.split("/", DEPTH + 1)[1 : DEPTH + 1])


def route_paths(route: BaseRoute) -> list[str] | None:
    """The path formats a top-level route serves, or None when it may serve any path."""
    if isinstance(route, _IncludedRouter):
        paths: list[str] = []
        for context in route.effective_route_contexts():
            found = _context_path(context)
            if found is None:
                return None
            paths.append(found)
        return paths
    found = _route_path(route)
    return None if found is None else [found]


def _context_path(context: Any) -> str | None:
    """The effective path of one route of an included router (its prefix included)."""
    if context.starlette_route is not None:
        return _route_path(context.starlette_route)
    if isinstance(context.original_route, APIRoute):
        path = context.path
        return path if isinstance(path, str) and path else None
    return None  # a frontend group: it may serve any path


def _route_path(route: BaseRoute) -> str | None:
    """A plain route's path; a mount's as Starlette matches it (``prefix/{path:path}``)."""
    if isinstance(route, Mount):
        return route.path + "/{path:path}"
    if isinstance(route, Route | WebSocketRoute) and route.path:
        return route.path
    return None  # a Host or an unknown kind: it may serve any path


class RouteIndex:
    """The app router's first-level match through a prefix index (see the module doc).

    Installed as the router's ``middleware_stack`` (what ``Router.__call__`` runs), so the
    app, its middleware, ``url_path_for`` and the OpenAPI document see the same router and
    routes as before. Built from the routes present when installed; rebuilt if the router's
    top-level list changes.
    """

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self._built_for: tuple[int, int] = (0, -1)
        self._candidates: dict[tuple[str, ...], tuple[BaseRoute, ...]] = {}
        self._build()

    @classmethod
    def install(cls, router: APIRouter) -> RouteIndex:
        """Put an index in front of ``router``'s own matching; the router must have no
        middleware of its own (its ``middleware_stack`` is its ``app``)."""
        if router.middleware_stack != router.app:
            raise ValueError("the router has middleware of its own: nothing to index")
        index = cls(router)
        router.middleware_stack = index
        return index

    def _build(self) -> None:
        routes = list(self.router.routes)
        prefixes: list[set[tuple[str, ...]]] = []
        for route in routes:
            paths = route_paths(route)
            prefixes.append({()} if paths is None else {literal_segments(p) for p in paths})
        known = {p[:n] for found in prefixes for p in found for n in range(len(p) + 1)}
        self._candidates = {
            key: tuple(
                route
                for route, found in zip(routes, prefixes, strict=True)
                if any(key[: len(p)] == p for p in found)
            )
            for key in known
        }
        self._built_for = (id(self.router.routes), len(self.router.routes))

    def candidates(self, path: str) -> tuple[BaseRoute, ...]:
        """The top-level routes that may match ``path``, in the router's order."""
        if self._built_for != (id(self.router.routes), len(self.router.routes)):
            self._build()
        key = path_key(path)
        table = self._candidates
        for length in range(len(key), -1, -1):
            found = table.get(key[:length])
            if found is not None:
                return found
        return ()

    def select(self, scope: Scope) -> tuple[Match, BaseRoute | None, Scope]:
        """What the linear scan would pick for ``scope``: the first full match among the
        candidates, else the first partial one, else nothing."""
        return first_match(self.candidates(get_route_path(scope)), scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        router = self.router
        if scope["type"] not in ("http", "websocket"):
            await router.app(scope, receive, send)
            return
        _, route, child_scope = self.select(scope)
        if route is None:  # no route at all: FastAPI's redirects, low priority, 404
            await router.app(scope, receive, send)
            return
        # What ``APIRouter.app`` does once its scan has found ``route``.
        _apply_router_form_limits(scope, router.form_limits)
        if "router" not in scope:
            scope["router"] = router
        _update_scope(scope, child_scope)
        _route_selected(
            scope=scope,
            path=getattr(route, "path_format", None),
            mount=isinstance(route, Mount),
        )
        await route.handle(scope, receive, send)


def first_match(routes: Iterable[BaseRoute], scope: Scope) -> tuple[Match, BaseRoute | None, Scope]:
    """The first route of ``routes`` matching ``scope`` fully, else the first matching
    partially (a path match with another method: the 405), else ``(NONE, None, {})``."""
    partial: tuple[BaseRoute, Scope] | None = None
    for route in routes:
        match, child_scope = route.matches(scope)
        if match == Match.FULL:
            return match, route, child_scope
        if match == Match.PARTIAL and partial is None:
            partial = (route, child_scope)
    if partial is not None:
        return Match.PARTIAL, partial[0], partial[1]
    return Match.NONE, None, {}
