"""A liveclass node: every long-lived part, built from `Settings`, started and stopped here.

`Node(settings)` builds the parts in dependency order, each given what it needs in its
constructor (database -> broker -> durable writer -> rooms -> media -> documents ->
revocations); nothing is patched in afterwards. `start()` runs the parts' start steps in
that order and `stop()` drains the rooms, then stops the parts that started in reverse.
The app factory (server.py) serves a node; the CLI (cli.py) opens only its `Database`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from jobs.metrics import JobMetrics
from lms.labs.runtime import LabsRuntime
from lms.notifications.channel import ChannelLimits, NotificationChannel
from media import fastpath
from media.whip import WhipSessions
from ops import health
from ops.metrics import Metrics
from parts import (
    Database,
    build_broker,
    build_caption_config,
    build_document_service,
    build_jobs,
    build_media,
    build_rooms,
    build_sandbox,
)
from persistence import migrate
from persistence.group_commit import GroupCommitter
from rooms.auto_captions import AutoCaptions
from rooms.recording import RoomRecorder
from rooms.revocation import Revocations
from settings import Settings

logger = logging.getLogger("liveclass")

Action = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Step:
    """One part's start and stop; `Node.stop` undoes the started steps in reverse."""

    name: str
    start: Action | None
    stop: Action | None


class Node:
    """Everything one liveclass process runs, built from ``settings``."""

    def __init__(self, settings: Settings, *, run_migrations: bool = True) -> None:
        self.settings = settings
        self.run_migrations = run_migrations
        self.database = Database.open(settings)
        self.broker = build_broker(settings)
        self.committer = GroupCommitter(
            self.database.sessionmaker, max_delay=settings.group_commit_delay_ms / 1000
        )
        self.rooms = build_rooms(settings, self.database, self.broker, self.committer)
        self.media = build_media(settings, self.rooms) if settings.media_enabled else None
        self.recorder = (
            RoomRecorder(
                self.media,
                self.rooms,
                self.database.sessionmaker,
                directory=settings.resolved_recordings_dir,
                node_id=settings.node_id,
            )
            if self.media is not None
            else None
        )
        self.captions = (
            AutoCaptions(self.media, self.rooms, config=build_caption_config(settings))
            if self.media is not None and settings.captions_enabled
            else None
        )
        self.labs = LabsRuntime(
            self.broker,
            self.database.sessionmaker,
            secret=lambda: settings.secret_key,
            send_queue_bytes=settings.send_queue_bytes,
        )
        self.documents = build_document_service(
            settings, self.database, self.rooms, self.committer, self.broker, self.labs
        )
        self.notifications = NotificationChannel(
            self.broker,
            self.database.read_sessionmaker,
            secret=lambda: settings.secret_key,
            limits=ChannelLimits(
                send_queue_bytes=settings.send_queue_bytes,
                history_limit=settings.room_history_size,
            ),
        )
        self.revocations = Revocations(
            self.broker,
            self.rooms,
            *self.documents.revocation_targets(),
            self.notifications,
            self.labs,
        )
        self.whip = WhipSessions()
        self.sandbox, self.practice_throttle = build_sandbox(settings)
        # Lost history: documents resync, then rooms reload (the order they always had).
        self.broker.add_reset_listener(self.documents.registry.on_broker_reset)
        self.broker.add_reset_listener(self.rooms.on_broker_reset)
        self.readiness = health.Readiness(
            probes={"database": self.database.ping, "broker": self.broker.ping},
            degradable={"broker"},  # without Redis a node still serves its local rooms
        )
        self.metrics = Metrics()
        self.jobs = build_jobs(
            settings,
            self.database,
            JobMetrics(self.metrics.registry),
            broker=self.broker,
            sandbox=self.sandbox,
        )
        self._add_gauges()
        self._started: list[Step] = []

    def _add_gauges(self) -> None:
        add = self.metrics.add_gauges
        add("liveclass_db_pool", "Database pool connections.", self.database.pool_gauges)
        add("liveclass_realtime", "Live rooms and connections.", self.rooms.gauges)
        add("liveclass_broker", "Broker connectivity (1 = up).", self.broker.gauges)
        add("liveclass_documents", "Loaded Yjs documents.", self.documents.gauges)
        add("liveclass_notification_tabs", "Notification channels.", self.notifications.gauges)
        add("liveclass_jobs", "Jobs by state, oldest due job's age.", self.jobs.metrics.gauges)
        if self.media is not None:
            add("liveclass_media", "SFU peer connections and tracks.", self.media.sfu.gauges)
            if self.media.cluster is not None:
                add("liveclass_media_placement", "Media placement.", self.media.cluster.gauges)
        if self.captions is not None:
            add("liveclass_captions", "Automatic captions.", self.captions.gauges)
        add("liveclass_sandbox", "Graded-code sandbox workers and runs.", self.sandbox.gauges)

    # ------------------------------------------------------------------ lifecycle

    def steps(self) -> list[Step]:
        """The parts in start order; each stop undoes its own start."""
        liveness = self.rooms.liveness
        steps = [
            Step("database", self._migrate if self.run_migrations else None, self.database.close),
            Step("broker", None, self.broker.close),
            Step("committer", _sync(self.committer.start), self.committer.close),
            Step("rooms hub", None, self.rooms.hub.close),
            Step("documents", None, self.documents.close),
            Step("labs", None, self.labs.close),
            Step("notifications", None, self.notifications.close),
            Step("revocations", self.revocations.start, self.revocations.close),
            Step("liveness", _sync(liveness.start), _both(liveness.close, liveness.store.close)),
        ]
        if self.media is not None:
            steps.append(Step("media", self._start_media, self.media.close))
        if self.recorder is not None:
            steps.append(Step("recorder", None, self.recorder.close))
        if self.captions is not None:  # its worker processes start on first use
            steps.append(Step("captions", None, self.captions.close))
        steps.append(Step("sandbox", None, self.sandbox.aclose))  # workers start on first use
        # Last to start, first to stop: handlers may use every part above.
        work = self.settings.jobs_embedded
        steps.append(Step("jobs", functools.partial(self.jobs.start, work=work), self.jobs.stop))
        return steps

    async def start(self) -> None:
        """Start every part in order (migrations first, unless told otherwise)."""
        for step in self.steps():
            if step.start is not None:
                await step.start()
            self._started.append(step)
        logger.info("liveclass node started", extra={"node_id": self.settings.node_id})

    async def drain(self) -> None:
        """Report not-ready, close the room and Yjs connections with 1001 (a graceful stop)."""
        self.readiness.draining = True
        await self.rooms.drain()
        await self.documents.drain()

    async def stop(self) -> None:
        """Drain the rooms, then stop the started parts in reverse order."""
        self.readiness.draining = True
        await self.rooms.drain()
        while self._started:
            step = self._started.pop()
            if step.stop is not None:
                await step.stop()
        logger.info("liveclass node stopped", extra={"node_id": self.settings.node_id})

    async def _migrate(self) -> None:
        await migrate.upgrade(self.database.engine)

    async def _start_media(self) -> None:
        assert self.media is not None
        fastpath.install()  # checks what it patches; warns if not compiled natively
        await self.media.start()


def _sync(start: Callable[[], None]) -> Action:
    """A synchronous start as a step action."""

    async def run() -> None:
        start()

    return run


def _both(first: Action, second: Action) -> Action:
    """Two stops as one step, in order."""

    async def run() -> None:
        await first()
        await second()

    return run
