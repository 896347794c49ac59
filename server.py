"""Composition root: settings -> engine, routers -> one ASGI app; and the ``liveclass`` CLI."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lms import privacy
from lms.accounts import apikey_routes, auth_routes, personal_data, service, user_routes
from lms.audit import personal_data as audit_personal_data
from lms.audit import routes as audit_routes
from lms.errors import LmsError
from ops import health, logs, problems
from ops.guards import assert_all_guarded
from ops.limits import BodyLimitMiddleware
from ops.metrics import Metrics
from ops.requests import RequestContextMiddleware
from persistence import migrate
from persistence.engine import create_engine, create_sessionmaker
from settings import Settings

logger = logging.getLogger("liveclass")
DEMO_PASSWORD = "liveclass-demo"


@dataclass
class Components:
    """The long-lived parts of a node, built from settings."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]


def build_components(settings: Settings) -> Components:
    """Create the engine and session factory for ``settings``."""
    engine = create_engine(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
    return Components(settings, engine, create_sessionmaker(engine))


def create_app(settings: Settings, *, run_migrations: bool = True) -> FastAPI:
    """Build the ASGI app; migrations run at startup unless told otherwise."""
    settings = settings.with_secret()
    parts = build_components(settings)
    metrics = Metrics()
    readiness = health.Readiness()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if run_migrations:
            await migrate.upgrade(parts.engine)
        logger.info("liveclass node started", extra={"node_id": settings.node_id})
        yield
        readiness.draining = True
        await parts.engine.dispose()
        logger.info("liveclass node stopped", extra={"node_id": settings.node_id})

    app = FastAPI(
        title="liveclass",
        version="0.1.0",
        summary="Realtime collaboration server for live online classes.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.sessionmaker = parts.sessionmaker
    app.state.metrics = metrics
    app.state.readiness = readiness

    readiness.probes["database"] = lambda: _ping_database(parts.engine)
    metrics.add_gauges("liveclass_db_pool", "Database pool connections.", _pool_gauges(parts))
    problems.install(app)
    routers = (
        health.build_router(readiness, metrics),
        auth_routes.router,
        privacy.router,
        user_routes.router,
        apikey_routes.router,
        audit_routes.router,
    )
    assert_all_guarded(routers)
    for router in routers:
        app.include_router(router)
    personal_data.register()
    audit_personal_data.register()
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app


async def _ping_database(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def _pool_gauges(parts: Components) -> Callable[[], dict[str, float]]:
    def read() -> dict[str, float]:
        pool = parts.engine.pool
        checked_out = getattr(pool, "checkedout", None)
        size = getattr(pool, "size", None)
        return {
            "checked_out": float(checked_out()) if callable(checked_out) else 0.0,
            "size": float(size()) if callable(size) else 0.0,
        }

    return read


# ---------------------------------------------------------------- command line


def load_settings() -> Settings:
    """Read settings from the environment, or exit with a readable message."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            f"  LIVECLASS_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        ]
        sys.stderr.write("liveclass: invalid settings\n" + "\n".join(lines) + "\n")
        raise SystemExit(2) from None


def serve(settings: Settings, *, host: str, port: int) -> None:
    """Run the node until SIGINT/SIGTERM, then drain and exit."""
    logs.configure(level=settings.log_level, fmt=settings.log_format)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        ws_max_size=settings.max_request_bytes,
        ws_max_queue=16,
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=10,
        proxy_headers=True,
        server_header=False,
    )
    uvicorn.Server(config).run()


async def _with_database(settings: Settings, *, migrate_first: bool = True) -> Components:
    parts = build_components(settings.with_secret())
    if migrate_first:
        await migrate.upgrade(parts.engine)
    return parts


async def run_migrate(settings: Settings) -> str | None:
    """Apply every pending migration; return the revision reached."""
    parts = await _with_database(settings)
    try:
        return await migrate.current_revision(parts.engine)
    finally:
        await parts.engine.dispose()


async def create_account(
    settings: Settings, *, email: str, password: str, name: str, role: str
) -> bool:
    """Create an account (or promote an existing one); tell whether it was new."""
    parts = await _with_database(settings)
    try:
        async with parts.sessionmaker() as session:
            existing = await service.find_by_email(session, email)
            if existing is not None:
                existing.role = role
                await session.commit()
                return False
            await service.create_user(
                session, email=email, password=password, name=name, role=role, settings=settings
            )
            await session.commit()
            return True
    finally:
        await parts.engine.dispose()


async def run_demo(settings: Settings) -> list[tuple[str, str]]:
    """Create the demo instructor and students; return their (email, role)."""
    people = [("instructor@demo.liveclass", "Ada Instructor", "instructor")] + [
        (f"student{i}@demo.liveclass", f"Student {i}", "student") for i in (1, 2, 3)
    ]
    for email, name, role in people:
        await create_account(settings, email=email, password=DEMO_PASSWORD, name=name, role=role)
    return [(email, role) for email, _, role in people]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liveclass", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    serve_cmd = commands.add_parser("serve", help="run the server")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=8000)
    commands.add_parser("migrate", help="apply database migrations")
    admin = commands.add_parser("create-admin", help="create an admin account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    admin.add_argument("--name", default="Administrator")
    commands.add_parser("demo", help="create demo accounts")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``liveclass`` command."""
    args = _parser().parse_args(argv)
    command = args.command or "serve"
    settings = load_settings()
    if command == "serve":
        serve(settings, host=getattr(args, "host", "127.0.0.1"), port=getattr(args, "port", 8000))
    elif command == "migrate":
        revision = asyncio.run(run_migrate(settings))
        print(f"database at revision {revision}")
    elif command == "create-admin":
        _create_admin(settings, args)
    elif command == "demo":
        for email, role in asyncio.run(run_demo(settings)):
            print(f"{role:<11} {email}  password: {DEMO_PASSWORD}")
        print("Sign in at /api/v1/auth/token (username = email).")


def _create_admin(settings: Settings, args: argparse.Namespace) -> None:
    try:
        created = asyncio.run(
            create_account(
                settings, email=args.email, password=args.password, name=args.name, role="admin"
            )
        )
    except LmsError as exc:
        sys.stderr.write(f"liveclass: {exc.detail}\n")
        raise SystemExit(1) from None
    print(("created admin " if created else "promoted to admin ") + args.email)


if __name__ == "__main__":
    main()
