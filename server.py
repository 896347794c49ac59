"""Composition root: settings -> engine, routers -> one ASGI app; and the ``liveclass`` CLI."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import stat
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import uvicorn
from fastapi import APIRouter, FastAPI, WebSocket
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lms import demo, privacy
from lms.accounts import (
    apikey_routes,
    auth_routes,
    personal_data,
    service,
    sessions,
    user_routes,
)
from lms.accounts.passwords import hash_password, verify_password
from lms.audit import personal_data as audit_personal_data
from lms.audit import routes as audit_routes
from lms.courses import personal_data as course_personal_data
from lms.courses import routes as course_routes
from lms.documents import quarantine_routes
from lms.documents import routes as document_routes
from lms.errors import LmsError
from lms.rooms import live_access, recording_data
from lms.rooms import members as room_member_routes
from lms.rooms import personal_data as room_personal_data
from lms.rooms import recordings as recording_routes
from lms.rooms import routes as room_routes
from lms.rooms import whip as whip_routes
from media import fastpath
from media.config import MediaConfig, parse_ice_servers
from media.placement import Timing
from media.sfu import Sfu
from media.whip import WhipSessions
from ops import docs as api_docs
from ops import health, logs, problems
from ops.guards import assert_all_guarded, channel, join_token
from ops.limits import BodyLimitMiddleware
from ops.metrics import Metrics
from ops.nul import RefuseNulMiddleware
from ops.requests import RequestContextMiddleware
from ops.server_protocol import http_protocol_class
from persistence import migrate
from persistence.engine import create_engine, create_sessionmaker, is_sqlite
from persistence.group_commit import GroupCommitter
from realtime.broker import Broker
from realtime.hub import Hub
from realtime.memory_broker import InMemoryBroker
from realtime.redis_broker import RedisBroker
from realtime.redis_presence import RedisPresence
from realtime.ws_protocol import LeanWebSocketProtocol
from realtime.yjs.document import DocumentLimits
from realtime.yjs.update_format import StructureLimits
from rooms import frames
from rooms.connection import RoomLimits
from rooms.document_service import DocumentService, build_documents
from rooms.manager import RoomManager
from rooms.media import MediaSignalling
from rooms.media_cluster import MediaCluster
from rooms.recording import RoomRecorder
from rooms.revocation import Revocations
from rooms.session import RoomEndpoint
from rooms.store import RoomStore
from settings import Settings
from static import app as web_app

logger = logging.getLogger("liveclass")


@dataclass
class Components:
    """The long-lived parts of a node, built from settings."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    reader: AsyncEngine
    read_sessionmaker: async_sessionmaker[AsyncSession]


@dataclass
class Realtime:
    """The node's realtime side: broker, hub, durable writer and the live rooms."""

    broker: Broker
    hub: Hub
    committer: GroupCommitter
    rooms: RoomManager
    media: MediaSignalling | None = None
    recorder: RoomRecorder | None = None


def build_realtime(settings: Settings, parts: Components) -> Realtime:
    """Broker -> hub -> rooms; the in-memory broker until Redis is configured."""
    broker: Broker = (
        RedisBroker(settings.redis_url, history_size=settings.room_history_size)
        if settings.redis_url
        else InMemoryBroker(history_size=settings.room_history_size)
    )
    hub = Hub(broker, render=frames.render, recovery_limit=settings.room_history_size)
    committer = GroupCommitter(parts.sessionmaker, max_delay=settings.group_commit_delay_ms / 1000)
    manager = RoomManager(
        hub=hub,
        store=RoomStore(committer),
        sessionmaker=parts.sessionmaker,
        node_id=settings.node_id,
        secret=settings.secret_key,
        admit=live_access.Admission(parts.read_sessionmaker),
        presence=RedisPresence(settings.redis_url) if settings.redis_url else None,
    )
    manager.liveness.ttl = settings.presence_ttl_seconds
    manager.liveness.interval = settings.presence_ttl_seconds / 4
    hub.observe = manager.observe
    if isinstance(broker, RedisBroker):
        broker.on_reset = manager.on_broker_reset
    media = MediaSignalling(build_sfu(settings), manager) if settings.media_enabled else None
    if media is not None and settings.redis_url:
        media.cluster = MediaCluster(
            media,
            manager,
            url=settings.redis_url,
            node_id=settings.node_id,
            timing=Timing(settings.media_placement_ttl_seconds),
            capacity=settings.media_placement_capacity,
            timeout=settings.media_relay_timeout_seconds,
        )
    recorder = None
    if media is not None:
        recorder = RoomRecorder(
            media,
            manager,
            parts.sessionmaker,
            directory=settings.resolved_recordings_dir,
            node_id=settings.node_id,
        )
    return Realtime(broker, hub, committer, manager, media, recorder)


def build_sfu(settings: Settings) -> Sfu:
    """The node's SFU (forwarding without transcoding) from the media settings."""
    servers = parse_ice_servers(
        settings.media_stun_urls,
        settings.media_turn_urls,
        settings.media_turn_username,
        settings.media_turn_credential,
    )
    return Sfu(
        MediaConfig(
            ice_servers=servers,
            public_ip=settings.media_public_ip,
            max_tracks_per_room=settings.media_max_tracks_per_room,
            ice_timeout=settings.media_ice_timeout_seconds,
        )
    )


def realtime_router(live: Realtime, settings: Settings) -> APIRouter:
    """The WebSocket channels; the join token in the query string is their access rule."""
    limits = RoomLimits(
        max_message_bytes=settings.room_max_message_bytes,
        send_queue_bytes=settings.send_queue_bytes,
        history_limit=settings.room_history_size,
    )
    endpoint = RoomEndpoint(
        live.rooms, secret=lambda: settings.secret_key, limits=limits, media=live.media
    )

    async def room_channel(websocket: WebSocket) -> None:
        await endpoint(websocket, websocket.path_params["room_id"])

    router = APIRouter()
    router.routes.append(channel("/ws/rooms/{room_id}", room_channel, rule=join_token))
    return router


def build_document_service(
    settings: Settings, parts: Components, live: Realtime
) -> DocumentService:
    """The collaborative documents: Yjs update store, registry, access rules, endpoint."""
    limits = DocumentLimits(
        max_update_bytes=settings.yjs_max_update_bytes,
        max_document_bytes=settings.yjs_max_document_bytes,
        max_awareness_bytes=settings.yjs_max_awareness_bytes,
        compact_threshold=settings.yjs_compact_threshold,
        idle_unload_seconds=settings.yjs_idle_unload_seconds,
        durable=settings.documents_durable,
        send_queue_bytes=settings.send_queue_bytes,
        structure=StructureLimits(
            max_depth=settings.yjs_max_nesting_depth,
            max_elements=settings.yjs_max_update_elements,
        ),
        messages_per_second=settings.yjs_messages_per_second,
        message_burst=settings.yjs_message_burst,
        bytes_per_second=settings.yjs_bytes_per_second,
    )
    docs = build_documents(
        rooms_hub=live.hub,
        committer=live.committer,
        sessionmaker=parts.sessionmaker,
        node_id=settings.node_id,
        secret=lambda: settings.secret_key,
        admit=live.rooms.admit,
        limits=limits,
        # One node: a private broker without history; a cluster: the shared one (`docs:*`).
        broker=None if isinstance(live.broker, InMemoryBroker) else live.broker,
        read_sessionmaker=parts.read_sessionmaker,
    )
    if isinstance(live.broker, RedisBroker):
        rooms_reset = live.broker.on_reset

        def on_reset(channel: str) -> None:
            docs.registry.on_broker_reset(channel)
            if rooms_reset is not None:
                rooms_reset(channel)

        live.broker.on_reset = on_reset
    return docs


def documents_router(docs: DocumentService) -> APIRouter:
    """The Yjs channel; like the room channel, the join token is its access rule."""

    async def yjs_channel(websocket: WebSocket) -> None:
        await docs.endpoint(websocket, websocket.path_params["doc_name"])

    router = APIRouter()
    router.routes.append(channel("/yjs/{doc_name:path}", yjs_channel, rule=join_token))
    return router


def build_components(settings: Settings) -> Components:
    """Create the engine and session factory for ``settings``."""
    engine = create_engine(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
    reader = engine
    if is_sqlite(settings.resolved_database_url):
        reader = create_engine(
            settings.resolved_database_url,
            pool_size=settings.db_pool_size,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            read_only=True,
        )
    return Components(
        settings,
        engine,
        create_sessionmaker(engine),
        reader,
        create_sessionmaker(reader, read_only=True),
    )


def create_app(settings: Settings, *, run_migrations: bool = True) -> FastAPI:
    """Build the ASGI app; migrations run at startup unless told otherwise."""
    settings = settings.with_secret()
    parts = build_components(settings)
    live = build_realtime(settings, parts)
    docs = build_document_service(settings, parts, live)
    revocations = Revocations(live.broker, live.rooms, docs.policy)
    live_access.register(revocations)
    metrics = Metrics()
    readiness = health.Readiness()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if run_migrations:
            await migrate.upgrade(parts.engine)
        live.committer.start()
        await revocations.start()
        live.rooms.liveness.start()
        if live.media is not None:
            fastpath.install()  # checks what it patches; warns if not compiled natively
            await live.media.start()
        logger.info("liveclass node started", extra={"node_id": settings.node_id})
        yield
        readiness.draining = True
        await live.rooms.drain()
        if live.recorder is not None:
            await live.recorder.close()
        if live.media is not None:
            await live.media.close()
        await live.rooms.liveness.close()
        await live.rooms.liveness.store.close()
        await revocations.close()
        await docs.close()
        await live.hub.close()
        await live.committer.close()
        await live.broker.close()
        await parts.engine.dispose()
        await parts.reader.dispose()
        logger.info("liveclass node stopped", extra={"node_id": settings.node_id})

    app = FastAPI(
        title="liveclass",
        version="0.1.0",
        summary="Realtime collaboration server for live online classes.",
        lifespan=lifespan,
        # FastAPI's own /docs and /redoc load their scripts from CDNs: ops.docs serves /docs.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.sessionmaker = parts.sessionmaker
    app.state.read_sessionmaker = parts.read_sessionmaker
    app.state.metrics = metrics
    app.state.readiness = readiness
    app.state.room_manager = live.rooms
    app.state.media = live.media  # rooms.media.MediaSignalling (None: media disabled)
    app.state.recorder = live.recorder  # rooms.recording.RoomRecorder (None: media disabled)
    app.state.whip = WhipSessions()
    app.state.documents = docs

    async def drain() -> None:
        readiness.draining = True
        await live.rooms.drain()
        await docs.drain()

    app.state.drain = drain
    readiness.probes["database"] = lambda: _ping_database(parts.engine)
    readiness.probes["broker"] = live.broker.ping
    readiness.degradable.add("broker")  # without Redis a node still serves its local rooms
    metrics.add_gauges("liveclass_db_pool", "Database pool connections.", _pool_gauges(parts))
    metrics.add_gauges("liveclass_realtime", "Live rooms and connections.", live.rooms.gauges)
    metrics.add_gauges("liveclass_broker", "Broker connectivity (1 = up).", _broker_gauges(live))
    metrics.add_gauges("liveclass_documents", "Loaded Yjs documents.", docs.gauges)
    if live.media is not None:
        sfu_gauges = live.media.sfu.gauges
        metrics.add_gauges("liveclass_media", "SFU peer connections and tracks.", sfu_gauges)
        if live.media.cluster is not None:
            placement = live.media.cluster.gauges
            metrics.add_gauges("liveclass_media_placement", "Media placement.", placement)
    problems.install(app)
    routers = (
        health.build_router(readiness, metrics),
        auth_routes.router,
        privacy.router,
        user_routes.router,
        apikey_routes.router,
        audit_routes.router,
        room_routes.router,
        room_member_routes.router,
        recording_routes.router,
        whip_routes.router,
        course_routes.router,
        document_routes.router,
        quarantine_routes.router,
        realtime_router(live, settings),
        documents_router(docs),
        web_app.build_router(),  # the browser app: its own page routes and /assets only
        api_docs.build_router(title=app.title, openapi_url=app.openapi_url or "/openapi.json"),
    )
    assert_all_guarded(routers)
    for router in routers:
        app.include_router(router)
    personal_data.register()
    audit_personal_data.register()
    room_personal_data.register()
    forget = live.recorder.forget_user if live.recorder is not None else None
    recording_data.register(settings.resolved_recordings_dir, forget=forget)
    course_personal_data.register()
    app.add_middleware(RefuseNulMiddleware)  # inside the body limit: it reads JSON bodies
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return app


async def _ping_database(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def _broker_gauges(live: Realtime) -> Callable[[], dict[str, float]]:
    broker = live.broker
    if isinstance(broker, RedisBroker):
        return broker.gauges
    return lambda: {"connected": 1.0, "degraded": 0.0}


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


def serve(settings: Settings, *, host: str, port: int) -> None:
    """Run the node until SIGINT/SIGTERM, then drain and exit."""
    logs.configure(level=settings.log_level, fmt=settings.log_format)
    data_dir = prepare_data_dir(settings)
    # Said on stdout as well as in the log: where the database and the secret key live.
    print(f"liveclass data directory: {data_dir}", flush=True)
    logger.info("data directory %s", data_dir, extra={"data_dir": str(data_dir)})
    app = create_app(settings)
    tune_garbage_collector()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=http_protocol_class(),
        ws=LeanWebSocketProtocol,
        log_config=None,
        ws_max_size=max(settings.max_request_bytes, settings.yjs_max_update_bytes),
        ws_max_queue=16,
        ws_ping_interval=10.0,
        ws_ping_timeout=10.0,
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=10,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        server_header=False,
    )
    # uvicorn re-raises the signal that stopped it once it has shut down gracefully; with
    # the default handlers the process would then die "killed by SIGTERM" (or print a
    # KeyboardInterrupt traceback). A graceful stop is a clean exit: status 0. uvicorn
    # installs its own handlers while it runs and restores these afterwards.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _stopped)
    DrainingServer(
        config,
        readiness=app.state.readiness,
        drain=app.state.drain,
        delay=settings.shutdown_delay_seconds,
    ).run()


def tune_garbage_collector() -> None:
    """Keep full collections rare and cheap with thousands of connections.

    Objects built at start-up (modules, the app) are frozen out of the collector, and the
    young generation is collected less often: with 1,000 clients the default thresholds
    caused 250-300 ms pauses every few seconds (see docs/benchmarks.md).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


class DrainingServer(uvicorn.Server):
    """uvicorn with a graceful drain: report not-ready for ``delay`` seconds while still
    serving (so load balancers stop sending), stop accepting, close WebSockets with 1001
    (before uvicorn's own 1012), then let uvicorn finish."""

    def __init__(
        self,
        config: uvicorn.Config,
        *,
        readiness: health.Readiness,
        drain: Callable[[], Awaitable[None]],
        delay: float,
    ) -> None:
        super().__init__(config)
        self._readiness = readiness
        self._drain = drain
        self._delay = delay
        self._stop = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        """uvicorn's housekeeping once a second rather than every 100 ms (an idle node woke
        ten times a second); a stop signal still ends the loop at once."""
        self._loop = asyncio.get_running_loop()
        ticks = 0
        while not await self.on_tick(ticks):
            ticks = (ticks + 10) % 864_000  # uvicorn refreshes its Date header when % 10 == 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 1.0)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._readiness.draining = True
        if self._delay:
            await asyncio.sleep(self._delay)
        for server in self.servers:
            server.close()
        await self._drain()
        await super().shutdown(sockets)


def _stopped(_signum: int, _frame: FrameType | None) -> None:
    """Receive the stop signal uvicorn re-raises after its graceful shutdown."""


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
    parts = await _with_database(settings)
    try:
        async with parts.sessionmaker() as session:
            existing = await service.find_by_email(session, email)
            current_hash = existing.password_hash if existing else None
        if existing is None:
            async with parts.sessionmaker() as session:
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
        async with parts.sessionmaker() as session:
            user = await service.find_by_email(session, email)
            if user is None:  # erased meanwhile: nothing left to promote
                raise PasswordMismatchError
            user.role = role
            if reset_password:
                user.password_hash = new_hash
                await sessions.revoke_all(session, user)
            await session.commit()
        return "reset" if reset_password else "promoted"
    finally:
        await parts.engine.dispose()
        await parts.reader.dispose()


async def run_demo(settings: Settings) -> demo.Demo:
    """Create the demo instructor, students, course and room."""
    parts = await _with_database(settings)
    try:
        return await demo.seed(parts.sessionmaker, settings.with_secret())
    finally:
        await parts.engine.dispose()
        await parts.reader.dispose()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liveclass", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    serve_cmd = commands.add_parser("serve", help="run the server")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=8000)
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


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``liveclass`` command."""
    args = _parser().parse_args(argv)
    command = args.command or "serve"
    os.umask(PRIVATE_UMASK)
    settings = load_settings()
    if command != "serve":
        prepare_data_dir(settings)
    if command == "serve":
        serve(settings, host=getattr(args, "host", "127.0.0.1"), port=getattr(args, "port", 8000))
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


if __name__ == "__main__":
    main()
