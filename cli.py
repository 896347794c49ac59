"""The ``liveclass`` command: serve, worker, migrate, create-admin, demo.

Run as ``liveclass``, ``python server.py`` or ``python -m server`` (server.py hands this
module its app factory, so nothing here imports server.py).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from fastapi import FastAPI
from pydantic import ValidationError

from jobs.events import Catalogue
from jobs.metrics import JobMetrics
from lms import demo
from lms.accounts import passwords, service, sessions
from lms.accounts.passwords import hash_password, verify_password
from lms.accounts.revoked import RevokedHooks
from lms.errors import LmsError
from node import Node
from ops import logs
from ops.serving import serve_app
from parts import EVENT_TYPES, Database, build_broker, build_jobs
from persistence import migrate
from persistence.engine import is_sqlite
from settings import Settings

logger = logging.getLogger("liveclass")

AppFactory = Callable[[Node], FastAPI]
"""Builds the ASGI app serving a node (server.build_app)."""


def load_settings() -> Settings:
    """Read settings from the environment, or exit with a readable message."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            # A model-level check has no location; its message names the variables itself.
            f"  LIVECLASS_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}"
            if e["loc"]
            else f"  {e['msg']}"
            for e in exc.errors()
        ]
        sys.stderr.write("liveclass: invalid settings\n" + "\n".join(lines) + "\n")
        raise SystemExit(2) from None


PRIVATE_UMASK = 0o077
"""Every file and directory the process creates is its owner's alone (0600 / 0700)."""


def prepare_data_dir(settings: Settings) -> Path:
    """Create the data directory owner-only (0700), or tighten it; return its full path.

    It holds the database, the secret key and the recordings: nobody else on the machine
    may read it. A directory an older version (or someone) left open to others is closed.
    """
    path = settings.data_dir.resolve()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        try:
            path.chmod(0o700)
            logger.warning(
                "data directory %s was open to other users (mode %o); it is now 0700", path, mode
            )
        except OSError as exc:
            logger.warning("data directory %s is open to others (mode %o): %s", path, mode, exc)
    return path


def serve(settings: Settings, build_app: AppFactory, *, host: str, port: int) -> None:
    """Run a node until SIGINT/SIGTERM, then drain and exit."""
    logs.configure(level=settings.log_level, fmt=settings.log_format)
    data_dir = prepare_data_dir(settings)
    # Said on stdout as well as in the log: where the database and the secret key live.
    print(f"liveclass data directory: {data_dir}", flush=True)
    logger.info("data directory %s", data_dir, extra={"data_dir": str(data_dir)})
    node = Node(settings.with_secret())
    app = build_app(node)
    serve_app(
        app,
        settings,
        host=host,
        port=port,
        readiness=node.readiness,
        drain=node.drain,
        fast=getattr(app.state, "fast_paths", None),
    )


def work(settings: Settings, *, metrics_port: int | None) -> None:
    """``liveclass worker``: run jobs from PostgreSQL until SIGTERM/SIGINT, then finish or
    give back the running ones (``LIVECLASS_JOBS_SHUTDOWN_GRACE_SECONDS``)."""
    logs.configure(level=settings.log_level, fmt=settings.log_format)
    if is_sqlite(settings.resolved_database_url):
        sys.stderr.write(
            "liveclass: `liveclass worker` needs PostgreSQL (LIVECLASS_DATABASE_URL); "
            "on SQLite, jobs run inside `liveclass serve`.\n"
        )
        raise SystemExit(2)
    asyncio.run(_work(settings, metrics_port))


async def _work(settings: Settings, metrics_port: int | None) -> None:
    database = await _with_database(settings)
    metrics = JobMetrics()
    # With Redis, the worker's jobs reach the nodes' open tabs (live notifications).
    broker = build_broker(settings) if settings.redis_url else None
    runtime = build_jobs(settings, database, metrics, broker=broker)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        metrics.add_queue_gauges()
        start_http_server(metrics_port, addr="127.0.0.1", registry=metrics.registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await runtime.start()
        print(f"liveclass worker {runtime.worker.name} started", flush=True)
        await stop.wait()
        logger.info("stopping: finishing running jobs", extra={"worker": runtime.worker.name})
        await runtime.stop()
    finally:
        if broker is not None:
            await broker.close()
        await database.close()
    print(f"liveclass worker {runtime.worker.name} stopped", flush=True)


async def _with_database(settings: Settings) -> Database:
    """The database of ``settings``, migrated to the latest revision."""
    database = Database.open(settings.with_secret())
    await migrate.upgrade(database.engine)
    return database


async def run_migrate(settings: Settings) -> str | None:
    """Apply every pending migration; return the revision reached."""
    database = await _with_database(settings)
    try:
        return await migrate.current_revision(database.engine)
    finally:
        await database.close()


class PasswordMismatchError(Exception):
    """``create-admin`` named an existing account with a password that is not its own."""


async def create_account(
    settings: Settings,
    *,
    email: str,
    password: str,
    name: str,
    role: str,
    reset_password: bool = False,
) -> str:
    """Create an account with ``role``, or give an existing one that role; say which:
    "created", "promoted" or "reset".

    An existing account keeps its password: ``password`` must be that password (else
    ``PasswordMismatchError``, and nothing changes), so it is never silently ignored. With
    ``reset_password`` the account gets ``password`` instead and is signed out everywhere.
    """
    if reset_password:
        service.check_password_policy(
            password, settings=settings, email=service.normalise_email(email), field="--password"
        )
    database = await _with_database(settings)
    try:
        async with database.sessionmaker() as session:
            existing = await service.find_by_email(session, email)
            current_hash = existing.password_hash if existing else None
        if existing is None:
            async with database.sessionmaker() as session:
                await service.create_user(
                    session, email=email, password=password, name=name, role=role, settings=settings
                )
                await session.commit()
            return "created"
        # Hashing and verifying are slow: done before the write transaction, not inside it.
        if reset_password:
            new_hash = await hash_password(password)
        elif not await verify_password(current_hash, password):
            raise PasswordMismatchError
        async with database.sessionmaker() as session:
            user = await service.find_by_email(session, email)
            if user is None:  # erased meanwhile: nothing left to promote
                raise PasswordMismatchError
            user.role = role
            if reset_password:
                user.password_hash = new_hash
                # This process serves no connections: no hooks to tell (a node's
                # revocation check refuses the old tokens when they are next used).
                await sessions.revoke_all(session, user, RevokedHooks())
            await session.commit()
        return "reset" if reset_password else "promoted"
    finally:
        await database.close()


async def run_demo(settings: Settings) -> demo.Demo:
    """Create the demo instructor, students, course and room."""
    database = await _with_database(settings)
    try:
        return await demo.seed(database.sessionmaker, settings.with_secret())
    finally:
        await database.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="liveclass",
        description="The liveclass command: serve, worker, migrate, create-admin, demo.",
    )
    commands = parser.add_subparsers(dest="command")
    serve_cmd = commands.add_parser("serve", help="run the server")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=8000)
    worker_cmd = commands.add_parser(
        "worker", help="run background jobs from PostgreSQL (beside nodes that do not)"
    )
    worker_cmd.add_argument(
        "--metrics-port", type=int, default=None, help="serve /metrics on 127.0.0.1:PORT"
    )
    commands.add_parser("events-doc", help="print docs/events.md (the event catalogue)")
    commands.add_parser("migrate", help="apply database migrations")
    admin = commands.add_parser(
        "create-admin", help="create an admin account, or make an existing account an admin"
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    admin.add_argument("--name", default="Administrator")
    admin.add_argument(
        "--reset-password",
        action="store_true",
        help="if the account exists, set its password to --password and end its sessions",
    )
    commands.add_parser("demo", help="create demo accounts")
    return parser


def main(argv: Sequence[str] | None, *, build_app: AppFactory) -> None:
    """Run the ``liveclass`` command in ``argv``; ``serve`` serves ``build_app(node)``."""
    args = _parser().parse_args(argv)
    command = args.command or "serve"
    os.umask(PRIVATE_UMASK)
    settings = load_settings()
    passwords.configure(settings)
    if command not in ("serve", "events-doc"):
        prepare_data_dir(settings)
    if command == "serve":
        host, port = getattr(args, "host", "127.0.0.1"), getattr(args, "port", 8000)
        serve(settings, build_app, host=host, port=port)
    elif command == "events-doc":
        sys.stdout.write(Catalogue(EVENT_TYPES).markdown())
    elif command == "worker":
        work(settings, metrics_port=args.metrics_port)
    elif command == "migrate":
        revision = asyncio.run(run_migrate(settings))
        print(f"database at revision {revision}")
    elif command == "create-admin":
        _create_admin(settings, args)
    elif command == "demo":
        created = asyncio.run(run_demo(settings))
        for email, role in created.people:
            print(f"{role:<11} {email}  password: {demo.DEMO_PASSWORD}")
        print(f"course DEMO-101 ({created.course_id}) with its live room {created.room_id}")
        print("Sign in at /api/v1/auth/token (username = email), then join the room.")


def _create_admin(settings: Settings, args: argparse.Namespace) -> None:
    email = args.email
    try:
        outcome = asyncio.run(
            create_account(
                settings,
                email=email,
                password=args.password,
                name=args.name,
                role="admin",
                reset_password=args.reset_password,
            )
        )
    except LmsError as exc:
        sys.stderr.write(f"liveclass: {exc.detail}\n")
        raise SystemExit(1) from None
    except PasswordMismatchError:
        sys.stderr.write(
            f"liveclass: an account with the email {email} already exists and --password is not "
            "its password; nothing was changed.\n"
            "To make it an admin, give its current password; to set this password instead "
            "(signing it out everywhere) and make it an admin, add --reset-password.\n"
        )
        raise SystemExit(1) from None
    print(
        {
            "created": f"created admin {email}",
            "promoted": f"promoted to admin {email}",
            "reset": f"reset the password of {email}, ended its sessions and made it an admin",
        }[outcome]
    )
