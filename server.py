"""The app factory and ``python server.py``: one node's routers and middleware, one ASGI app.

`create_app(settings)` builds a `Node` (node.py: every long-lived part, its start and stop)
and the FastAPI app that serves it; `main` is the ``liveclass`` command (cli.py) with this
factory. Nothing imports this module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, WebSocket

import cli
import error_map
from lms import privacy
from lms.accounts import apikey_routes, auth_routes, email_routes, personal_data, user_routes
from lms.accounts.revoked import RevokedHooks
from lms.assessments import attempt_routes, bank_routes, code_routes, quiz_routes
from lms.assessments import personal_data as quiz_personal_data
from lms.assessments import uploads as quiz_uploads
from lms.assignments import grading_routes as assignment_grading_routes
from lms.assignments import personal_data as assignment_personal_data
from lms.assignments import routes as assignment_routes
from lms.assignments import rubric_routes
from lms.assignments import submissions as assignment_submissions
from lms.audit import personal_data as audit_personal_data
from lms.audit import routes as audit_routes
from lms.cohorts import activity_routes as cohort_activity_routes
from lms.cohorts import member_routes as cohort_member_routes
from lms.cohorts import personal_data as cohort_personal_data
from lms.cohorts import routes as cohort_routes
from lms.content import page_routes as content_page_routes
from lms.content import personal_data as content_personal_data
from lms.content import routes as content_routes
from lms.courses import personal_data as course_personal_data
from lms.courses import routes as course_routes
from lms.courses.events import CourseEvents
from lms.documents import quarantine_routes
from lms.documents import routes as document_routes
from lms.files import fast as file_fast
from lms.files import personal_data as file_personal_data
from lms.files import routes as file_routes
from lms.files import serving as file_serving
from lms.files.service import FileStorage, LearnerUploads
from lms.files.storage import build_file_storage
from lms.gradebook import personal_data as gradebook_personal_data
from lms.gradebook import routes as gradebook_routes
from lms.gradebook import transfer_routes as gradebook_transfer_routes
from lms.jobs import routes as job_routes
from lms.labs import closing_routes as lab_closing_routes
from lms.labs import help_routes as lab_help_routes
from lms.labs import live_routes as lab_live_routes
from lms.labs import personal_data as lab_personal_data
from lms.labs import routes as lab_routes
from lms.labs.runtime import LabsRuntime
from lms.notifications import personal_data as notification_personal_data
from lms.notifications import routes as notification_routes
from lms.notifications.channel import NotificationChannel
from lms.payments import finance_routes as payment_finance_routes
from lms.payments import offline_routes as payment_offline_routes
from lms.payments import personal_data as payment_personal_data
from lms.payments import reconcile_routes as payment_reconcile_routes
from lms.payments import reports_routes as payment_reports_routes
from lms.payments import routes as payment_routes
from lms.payments.providers import build_provider
from lms.personal_data import PersonalData
from lms.rooms import live_access, recording_data
from lms.rooms import members as room_member_routes
from lms.rooms import personal_data as room_personal_data
from lms.rooms import recordings as recording_routes
from lms.rooms import routes as room_routes
from lms.rooms import whip as whip_routes
from lms.video import media as video_media
from lms.video import routes as video_routes
from lms.webhooks import personal_data as webhook_personal_data
from lms.webhooks import routes as webhook_routes
from lms.workshops import feed_routes as workshop_feed_routes
from lms.workshops import personal_data as workshop_personal_data
from lms.workshops import routes as workshop_routes
from lms.workshops import session_routes as workshop_session_routes
from node import Node
from ops import docs as api_docs
from ops import health
from ops.fastpath import FastPaths
from ops.guards import assert_all_guarded, channel, join_token
from ops.limits import BodyLimitMiddleware
from ops.metrics import Metrics
from ops.nul import RefuseNulMiddleware
from ops.requests import RequestContextMiddleware
from ops.routing import RouteIndex
from persistence.blobs import LocalBlobStore
from rooms.connection import RoomLimits
from rooms.document_service import DocumentService
from rooms.session import RoomEndpoint
from settings import Settings
from static import app as web_app


def create_app(settings: Settings, *, run_migrations: bool = True) -> FastAPI:
    """Build a node from ``settings`` and the ASGI app serving it; migrations run at
    start-up unless told otherwise."""
    return build_app(Node(settings.with_secret(), run_migrations=run_migrations))


def build_app(node: Node) -> FastAPI:
    """The ASGI app serving ``node``: its lifespan starts and stops the node."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await node.start()
        yield
        await node.stop()

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
    settings = node.settings
    app.state.node = node
    app.state.settings = settings
    app.state.sessionmaker = node.database.sessionmaker
    app.state.read_sessionmaker = node.database.read_sessionmaker
    app.state.metrics = node.metrics
    app.state.readiness = node.readiness
    app.state.room_manager = node.rooms
    app.state.media = node.media  # rooms.media.MediaSignalling (None: media disabled)
    app.state.recorder = node.recorder  # rooms.recording.RoomRecorder (None: media disabled)
    app.state.whip = node.whip
    app.state.sandbox = node.sandbox  # graded code: lms.assessments.sandbox.SandboxPool
    app.state.practice_throttle = node.practice_throttle
    app.state.documents = node.documents
    app.state.labs = node.labs
    app.state.drain = node.drain
    app.state.event_catalogue = node.jobs.catalogue
    # The app's own registries: two apps in one process never share them.
    app.state.personal_data = registry = PersonalData()
    app.state.revoked_hooks = revoked = RevokedHooks()
    app.state.course_events = course_events = CourseEvents()
    app.state.files = build_file_storage(settings)
    app.state.learner_uploads = LearnerUploads(
        {"assignment": assignment_submissions.check_upload, "attempt": quiz_uploads.check_upload}
    )
    app.state.payment_provider = build_provider(settings, node.database.sessionmaker)
    app.state.fast_paths = fast_paths(settings, node.metrics, app.state.files)
    live_access.register(node.revocations, revoked, course_events)
    error_map.install(app)
    routers = (
        # First: the byte-serving routes CDNs and players hammer are matched before the rest.
        file_serving.router,
        video_media.router,
        health.build_router(node.readiness, node.metrics),
        auth_routes.router,
        email_routes.router,
        privacy.router,
        user_routes.router,
        apikey_routes.router,
        audit_routes.router,
        room_routes.router,
        room_member_routes.router,
        recording_routes.router,
        whip_routes.router,
        course_routes.router,
        content_routes.router,
        content_page_routes.router,
        bank_routes.router,
        quiz_routes.router,
        attempt_routes.router,
        code_routes.router,
        document_routes.router,
        quarantine_routes.router,
        job_routes.router,
        webhook_routes.router,
        notification_routes.router,
        file_routes.uploads,
        file_routes.files,
        assignment_routes.router,
        assignment_grading_routes.router,
        rubric_routes.router,
        video_routes.router,
        gradebook_routes.router,
        gradebook_transfer_routes.router,
        workshop_routes.router,
        workshop_feed_routes.router,
        workshop_session_routes.router,
        cohort_routes.router,
        cohort_member_routes.router,
        cohort_activity_routes.router,
        payment_routes.router,
        payment_finance_routes.router,
        payment_offline_routes.router,
        payment_reconcile_routes.router,
        payment_reports_routes.router,
        lab_routes.router,
        lab_closing_routes.router,
        lab_live_routes.router,
        lab_help_routes.router,
        room_channel_router(node),
        lab_feed_router(node.labs),
        notification_channel_router(node.notifications),
        documents_router(node.documents),
        web_app.build_router(),  # the browser app: its own page routes and /assets only
        api_docs.build_router(title=app.title, openapi_url=app.openapi_url or "/openapi.json"),
    )
    assert_all_guarded(routers)
    for router in routers:
        app.include_router(router)
    RouteIndex.install(app.router)  # match through a prefix index, not all 350 routes in turn
    # Cohorts first: its erasure finds invitations by the address the account's erasure scrubs.
    cohort_personal_data.register(registry)
    personal_data.register(registry)
    audit_personal_data.register(registry)
    room_personal_data.register(registry, revoked)
    forget = node.recorder.forget_user if node.recorder is not None else None
    recording_data.register(registry, settings.resolved_recordings_dir, forget=forget)
    course_personal_data.register(registry)
    content_personal_data.register(registry)
    quiz_personal_data.register(registry)
    webhook_personal_data.register(registry)
    notification_personal_data.register(registry)
    file_personal_data.register(registry)
    assignment_personal_data.register(registry)
    gradebook_personal_data.register(registry)
    workshop_personal_data.register(registry)
    payment_personal_data.register(registry)
    lab_personal_data.register(registry)
    app.add_middleware(RefuseNulMiddleware)  # inside the body limit: it reads JSON bodies
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        unlimited=file_routes.UPLOAD_BODIES,  # tus chunks: capped by the upload's own length
    )
    app.add_middleware(RequestContextMiddleware, metrics=node.metrics)
    return app


def fast_paths(settings: Settings, metrics: Metrics, storage: FileStorage) -> FastPaths | None:
    """The byte-serving fast path's prefixes (``ops.fastpath``): the signed blob and media
    links of a local blob store; None when it is off or the blobs are not local files."""
    if not settings.fast_serving or not isinstance(storage.blobs, LocalBlobStore):
        return None
    paths = FastPaths(metrics)
    paths.add("/blobs/", file_fast.blob_responder(storage.secret, storage.blobs))
    paths.add("/media/", video_media.media_responder(storage.secret, storage.blobs))
    return paths


def room_channel_router(node: Node) -> APIRouter:
    """The room channel; the join token in the query string is its access rule."""
    settings = node.settings
    limits = RoomLimits(
        max_message_bytes=settings.room_max_message_bytes,
        send_queue_bytes=settings.send_queue_bytes,
        history_limit=settings.room_history_size,
    )
    endpoint = RoomEndpoint(
        node.rooms, secret=lambda: settings.secret_key, limits=limits, media=node.media
    )

    async def room_channel(websocket: WebSocket) -> None:
        await endpoint(websocket, websocket.path_params["room_id"])

    router = APIRouter()
    router.routes.append(channel("/ws/rooms/{room_id}", room_channel, rule=join_token))
    return router


def notification_channel_router(endpoint: NotificationChannel) -> APIRouter:
    """The per-user notification channel; its channel token is its access rule."""

    async def notification_channel(websocket: WebSocket) -> None:
        await endpoint(websocket)

    router = APIRouter()
    router.routes.append(channel("/ws/notifications", notification_channel, rule=join_token))
    return router


def lab_feed_router(labs: LabsRuntime) -> APIRouter:
    """A lab's realtime feed; its feed token is its access rule."""

    async def lab_feed(websocket: WebSocket) -> None:
        await labs.feeds(websocket, websocket.path_params["lab_id"])

    router = APIRouter()
    router.routes.append(channel("/ws/labs/{lab_id}", lab_feed, rule=join_token))
    return router


def documents_router(docs: DocumentService) -> APIRouter:
    """The Yjs channel; like the room channel, the join token is its access rule."""

    async def yjs_channel(websocket: WebSocket) -> None:
        await docs.endpoint(websocket, websocket.path_params["doc_name"])

    router = APIRouter()
    router.routes.append(channel("/yjs/{doc_name:path}", yjs_channel, rule=join_token))
    return router


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``liveclass`` command."""
    cli.main(argv, build_app=build_app)


if __name__ == "__main__":
    main()
