"""Every dependency of the app's routes is a coroutine (or an async generator): FastAPI runs
a plain function dependency in its thread pool, a hop to a worker thread and back on every
request (``lms.deps.on_the_loop`` wraps an accessor)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import _IncludedRouter

from server import create_app
from settings import Settings

# Not converted yet (its owner's module): each costs a thread-pool hop per request.
KNOWN: set[str] = set()


def plain(call: Any) -> bool:
    return not (
        inspect.iscoroutinefunction(call)
        or inspect.isasyncgenfunction(call)
        or inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004
    )


def plain_dependencies(dependant: Dependant) -> set[str]:
    found = set()
    for sub in dependant.dependencies:
        if sub.call is not None and plain(sub.call):
            found.add(f"{sub.call.__module__}.{sub.call.__qualname__}")
        found |= plain_dependencies(sub)
    return found


def test_no_route_has_a_plain_function_dependency(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, secret_key=""), run_migrations=False)
    found: dict[str, str] = {}
    routes = 0
    for top in app.router.routes:
        if not isinstance(top, _IncludedRouter):
            continue
        for context in top.effective_route_contexts():
            dependant = getattr(context, "dependant", None)
            if dependant is None:
                continue
            routes += 1
            for name in plain_dependencies(dependant):
                found.setdefault(name, context.path)
    assert routes > 300
    assert set(found) <= KNOWN, {n: p for n, p in found.items() if n not in KNOWN}
