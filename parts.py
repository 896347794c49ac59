"""The parts of a node, built from `Settings`: its database, broker, rooms, media, captions,
documents and background jobs, and the catalogue of every domain event type. `Node`
(node.py) builds them in dependency order; the CLI builds the ones a command needs.
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from jobs.events import Catalogue, EventType
from jobs.metrics import JobMetrics
from jobs.runtime import JobRuntime
from jobs.types import JobRegistry
from jobs.worker import WorkerConfig
from lms.accounts import emails as account_emails
from lms.accounts import jobs as account_jobs
from lms.assessments import code_grading
from lms.assessments import events as quiz_events
from lms.assessments import jobs as quiz_jobs
from lms.assessments.sandbox import PoolConfig, PracticeThrottle, SandboxPool
from lms.assignments import events as assignment_events
from lms.cohorts import events as cohort_events
from lms.cohorts import invitations as cohort_invitations
from lms.content import events as content_events
from lms.content import page_access
from lms.content.page_access import PageDocumentPolicy
from lms.files import events as file_events
from lms.files import jobs as file_jobs
from lms.gradebook import consumers as gradebook_consumers
from lms.gradebook import events as gradebook_events
from lms.labs import events as lab_events
from lms.labs.runtime import LabsRuntime
from lms.notifications import events as notification_events
from lms.notifications.jobs import Delivery
from lms.notifications.mail import Mailer
from lms.payments import events as payment_events
from lms.payments import jobs as payment_jobs
from lms.payments import reconcile as payment_reconcile
from lms.rooms import live_access, live_quizzes
from lms.video import jobs as video_jobs
from lms.webhooks import events as webhook_events
from lms.webhooks import jobs as webhook_jobs
from lms.webhooks.config import WebhookConfig
from lms.workshops import closing as workshop_closing
from lms.workshops import events as workshop_events
from lms.workshops import reminders as workshop_reminders
from lms.workshops import seats as workshop_seats
from lms.workshops import sessions as workshop_sessions
from media.captions.config import CaptionConfig
from media.captions.segmenter import Endpointing
from media.config import MediaConfig, parse_ice_servers
from media.placement import Timing
from media.sfu import Sfu
from persistence.engine import create_engine, create_sessionmaker, is_sqlite
from persistence.group_commit import GroupCommitter
from realtime.broker import Broker
from realtime.memory_broker import InMemoryBroker
from realtime.redis_broker import RedisBroker
from realtime.redis_presence import RedisPresence
from realtime.yjs.limits import DocumentLimits
from realtime.yjs.update_format import StructureLimits
from rooms import domain_events as room_events
from rooms import quiz_rules
from rooms.document_service import DocumentFamily, DocumentService, build_documents
from rooms.document_shapes import POLICIES
from rooms.manager import RoomManager
from rooms.media import MediaSignalling
from rooms.media_cluster import MediaCluster
from rooms.store import RoomStore
from settings import Settings

EVENT_TYPES: tuple[EventType, ...] = (
    room_events.RECORDING_STOPPED,
    room_events.ROOM_ENDED,
    room_events.LIVE_QUIZ_GRADED,
    webhook_events.WEBHOOK_ENDPOINT_DISABLED,
    *content_events.EVENT_TYPES,
    file_events.FILE_UPLOADED,
    *gradebook_events.EVENT_TYPES,
    *quiz_events.EVENT_TYPES,
    *assignment_events.EVENT_TYPES,
    *workshop_events.EVENT_TYPES,
    *cohort_events.EVENT_TYPES,
    *payment_events.EVENT_TYPES,
    *lab_events.EVENT_TYPES,
)
"""Every domain event type; docs/events.md is generated from this catalogue."""


@dataclass(frozen=True)
class Database:
    """The node's engines and session factories: a writer, and on SQLite a read-only reader
    (readers never queue behind the write lock); elsewhere the reader is the writer."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    reader: AsyncEngine
    read_sessionmaker: async_sessionmaker[AsyncSession]

    @classmethod
    def open(cls, settings: Settings) -> Database:
        """Create the engines (they connect lazily) for ``settings``."""
        url = settings.resolved_database_url
        engine = create_engine(
            url, pool_size=settings.db_pool_size, busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )
        reader = engine
        if is_sqlite(url):
            reader = create_engine(
                url,
                pool_size=settings.db_pool_size,
                busy_timeout_ms=settings.sqlite_busy_timeout_ms,
                read_only=True,
            )
        return cls(
            engine,
            create_sessionmaker(engine),
            reader,
            create_sessionmaker(reader, read_only=True),
        )

    async def ping(self) -> None:
        """Raise unless the database answers (the readiness probe)."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    def pool_gauges(self) -> dict[str, float]:
        """The writer pool's connections, for /metrics."""
        pool = self.engine.pool
        checked_out = getattr(pool, "checkedout", None)
        size = getattr(pool, "size", None)
        return {
            "checked_out": float(checked_out()) if callable(checked_out) else 0.0,
            "size": float(size()) if callable(size) else 0.0,
        }

    async def close(self) -> None:
        """Dispose of the writer, then the reader."""
        await self.engine.dispose()
        await self.reader.dispose()


# ---------------------------------------------------------------- the parts


def build_jobs(
    settings: Settings,
    database: Database,
    metrics: JobMetrics,
    *,
    broker: Broker | None = None,
    sandbox: SandboxPool | None = None,
) -> JobRuntime:
    """The jobs runtime: every domain's job types, periodic jobs, event types and consumers,
    plus the modules named in ``LIVECLASS_JOBS_MODULES`` (each ``register_jobs(registry,
    catalogue)``). ``broker`` carries live notifications to the nodes' open tabs (a worker
    without one leaves them to the tabs' next count); ``sandbox`` runs code answers (a
    worker without one gets its own pool, whose processes start on the first code answer
    and end with the worker)."""
    mailer = Mailer(settings)
    delivery = Delivery(settings, mailer, broker)
    transcode = video_jobs.transcode_job(settings)
    grade_code = code_grading.grade_code_job(sandbox or build_sandbox(settings)[0])
    registry = JobRegistry(
        types=[
            *delivery.job_types(),
            *account_emails.job_types(settings, mailer),
            transcode,
            grade_code,
            workshop_seats.EXPIRE_OFFER,
            workshop_sessions.OPEN_SESSION,
            *workshop_closing.job_types(settings, broker),
            *cohort_invitations.job_types(settings, mailer),
            *payment_jobs.job_types(settings, database.sessionmaker, mailer),
        ],
        periodic=[
            account_jobs.PURGE_EXPIRED_TOKENS,
            *delivery.periodic(),
            file_jobs.periodic(settings),
            video_jobs.sweep_job(settings),
            quiz_jobs.CLOSE_DUE,
            workshop_reminders.periodic(settings),
            payment_jobs.PURGE_KEYS,
            payment_reconcile.periodic(settings),
        ],
    )
    catalogue = Catalogue(
        EVENT_TYPES,
        [
            *notification_events.consumers(),
            *gradebook_consumers.consumers(),
            video_jobs.consumer(),
            *live_quizzes.consumers(),
            *workshop_sessions.consumers(),
            *payment_jobs.consumers(),
        ],
    )
    for name in filter(None, (m.strip() for m in settings.jobs_modules.split(","))):
        importlib.import_module(name).register_jobs(registry, catalogue)
    # Last: the webhooks consume every event type declared above.
    webhook_jobs.register(registry, catalogue, WebhookConfig.from_settings(settings))
    config = WorkerConfig(
        concurrency=settings.jobs_concurrency,
        lease=settings.jobs_lease_seconds,
        poll=settings.jobs_poll_seconds,
        grace=settings.jobs_shutdown_grace_seconds,
        node_id=settings.node_id,
    )
    return JobRuntime(
        engine=database.engine,
        sessions=database.sessionmaker,
        registry=registry,
        catalogue=catalogue,
        config=config,
        metrics=metrics,
        retention=timedelta(days=settings.jobs_retention_days),
        read_sessions=database.read_sessionmaker,
    )


def build_broker(settings: Settings) -> Broker:
    """The Redis broker when Redis is configured, else the in-memory one (a single node)."""
    if settings.redis_url:
        return RedisBroker(settings.redis_url, history_size=settings.room_history_size)
    return InMemoryBroker(history_size=settings.room_history_size)


def build_rooms(
    settings: Settings, database: Database, broker: Broker, committer: GroupCommitter
) -> RoomManager:
    """The live rooms over ``broker``: their hub, store, admission and presence; live
    quizzes run with the assessments' question rules."""
    quiz_rules.install(live_quizzes.RULES)
    return RoomManager(
        broker=broker,
        store=RoomStore(committer),
        sessionmaker=database.sessionmaker,
        node_id=settings.node_id,
        secret=settings.secret_key,
        admit=live_access.Admission(database.read_sessionmaker),
        presence=RedisPresence(settings.redis_url) if settings.redis_url else None,
        presence_ttl=settings.presence_ttl_seconds,
        recovery_limit=settings.room_history_size,
    )


def build_media(settings: Settings, rooms: RoomManager) -> MediaSignalling:
    """Media signalling over the node's SFU; with Redis, a part of the cluster's placement."""
    cluster = None
    if settings.redis_url:
        cluster = functools.partial(
            MediaCluster,
            manager=rooms,
            url=settings.redis_url,
            node_id=settings.node_id,
            timing=Timing(settings.media_placement_ttl_seconds),
            capacity=settings.media_placement_capacity,
            timeout=settings.media_relay_timeout_seconds,
        )
    return MediaSignalling(build_sfu(settings), rooms, cluster=cluster)


def build_caption_config(settings: Settings) -> CaptionConfig:
    """The automatic captions' engine, model and endpointing from the captions settings."""
    return CaptionConfig(
        engine=settings.captions_engine,
        model_path=settings.captions_model_path,
        compute_type=settings.captions_compute_type,
        threads=settings.captions_threads,
        workers=settings.captions_workers,
        beam_size=settings.captions_beam_size,
        max_pending=settings.captions_max_pending_seconds,
        endpointing=Endpointing(
            partial_interval=settings.captions_partial_interval_seconds,
            endpoint_silence=settings.captions_endpoint_silence_seconds,
        ),
    )


def build_sandbox(settings: Settings) -> tuple[SandboxPool, PracticeThrottle]:
    """The graded-code workers (started on first use) and the practice-run throttle."""
    pool = SandboxPool(
        PoolConfig(
            workers=settings.sandbox_workers,
            max_queue=settings.sandbox_max_queue,
            cache_dir=settings.resolved_sandbox_cache_dir,
            fuel_per_ms=settings.sandbox_fuel_per_ms,
            queue_timeout=settings.sandbox_queue_timeout_seconds,
        )
    )
    throttle = PracticeThrottle(
        settings.sandbox_practice_runs_per_minute / 60, settings.sandbox_practice_burst
    )
    return pool, throttle


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


def build_document_service(
    settings: Settings,
    database: Database,
    rooms: RoomManager,
    committer: GroupCommitter,
    broker: Broker,
    labs: LabsRuntime | None = None,
) -> DocumentService:
    """The collaborative documents: Yjs update store, registry, access rules, endpoint;
    ``labs`` adds the lab workspaces' family (and is attached to the registry)."""
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
    families = [page_documents(settings, database)]
    if labs is not None:
        families.append(DocumentFamily(labs.prefix, labs.policy.authorize, None, labs.policy))
    service = build_documents(
        rooms_hub=rooms.hub,
        committer=committer,
        sessionmaker=database.sessionmaker,
        node_id=settings.node_id,
        secret=lambda: settings.secret_key,
        admit=rooms.admit,
        limits=limits,
        # One node: a private broker without history; a cluster: the shared one (`docs:*`).
        broker=broker if settings.redis_url else None,
        read_sessionmaker=database.read_sessionmaker,
        families=families,
    )
    if labs is not None:
        labs.attach(service.registry)
    return service


def page_documents(settings: Settings, database: Database) -> DocumentFamily:
    """Course pages' live documents: editor tokens, course roles checked at connect, and the
    notes' rules for what an update may hold (Markdown text)."""
    policy = PageDocumentPolicy(
        sessionmaker=database.sessionmaker, secret=lambda: settings.secret_key
    )
    return DocumentFamily(page_access.PREFIX, policy.authorize, POLICIES["notes"], policy)
