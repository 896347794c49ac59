"""Request-scoped dependencies shared by the REST modules: one typed accessor per service.

The app factory (server.py) keeps each of its node's services on ``app.state``; this module
is the one place that reads them, so a route names what it needs by type (``RoomsDep``,
``DocumentsDep``, ...) and two apps in one process each hand out their own. The SFU's
services (media signalling, the recorder, WHIP sessions) are read in
``lms.rooms.media_deps`` instead, so only the media routes import the SFU.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.events import Catalogue
from lms.accounts.revoked import RevokedHooks
from lms.assessments.sandbox import PracticeThrottle, SandboxPool
from lms.courses.events import CourseEvents
from lms.personal_data import PersonalData
from ops.metrics import Metrics
from rooms.document_service import DocumentService
from rooms.manager import RoomManager
from settings import Settings

T = TypeVar("T")


def get_settings(request: Request) -> Settings:
    """The node's settings."""
    settings: Settings = request.app.state.settings
    return settings


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: a reader for GET/HEAD, a writer otherwise.

    On SQLite only writers take the write lock, so reads never queue behind writes.
    """
    state = request.app.state
    reads = request.method in READ_METHODS
    factory: async_sessionmaker[AsyncSession] = (
        state.read_sessionmaker if reads else state.sessionmaker
    )
    async with factory() as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A reader session whatever the method, for a write request that only reads through
    it and writes in a short transaction of its own (``WriterSessionsDep``): on SQLite its
    reads then hold no write lock (the autosave of quiz answers)."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.read_sessionmaker
    async with factory() as session:
        yield session


def writer_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """The writer session factory, for a write during a read request."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return factory


def sandbox_pool(request: Request) -> SandboxPool:
    """The node's graded-code workers (``lms.assessments.sandbox.run_code``)."""
    pool: SandboxPool = request.app.state.sandbox
    return pool


def practice_throttle(request: Request) -> PracticeThrottle:
    """The node's per-person limit on practice runs (``practice_run``)."""
    throttle: PracticeThrottle = request.app.state.practice_throttle
    return throttle


def room_manager(request: Request) -> RoomManager:
    """The node's live rooms (publishing room events from REST)."""
    manager: RoomManager = request.app.state.room_manager
    return manager


def documents(request: Request) -> DocumentService:
    """The node's collaborative documents (Yjs store and registry)."""
    service: DocumentService = request.app.state.documents
    return service


def personal_data(request: Request) -> PersonalData:
    """The app's personal-data registry (every domain's export and erasure)."""
    registry: PersonalData = request.app.state.personal_data
    return registry


def revoked_hooks(request: Request) -> RevokedHooks:
    """The app's hooks run when a user's sessions are revoked."""
    hooks: RevokedHooks = request.app.state.revoked_hooks
    return hooks


def course_events(request: Request) -> CourseEvents:
    """The app's handlers of what the courses domain tells others."""
    events: CourseEvents = request.app.state.course_events
    return events


def event_catalogue(request: Request) -> Catalogue:
    """The node's event catalogue (every declared event type)."""
    catalogue: Catalogue = request.app.state.event_catalogue
    return catalogue


def node_metrics(request: Request) -> Metrics:
    """The app's Prometheus metrics (its own registry)."""
    found: Metrics = request.app.state.metrics
    return found


def client_ip(request: Request) -> str | None:
    """The caller's address as the server saw it (after trusted proxy headers)."""
    return request.client.host if request.client else None


def on_the_loop(accessor: Callable[[Request], T]) -> Callable[[Request], Awaitable[T]]:
    """``accessor`` as a coroutine dependency. FastAPI runs a plain function dependency in
    its thread pool (a hop to a worker thread and back, per request, measured at ~10% of a
    small request's CPU); these accessors only read ``app.state``, so they run in place."""

    async def dependency(request: Request) -> T:
        return accessor(request)

    dependency.__name__ = dependency.__qualname__ = accessor.__name__
    dependency.__doc__ = accessor.__doc__
    return dependency


SettingsDep = Annotated[Settings, Depends(on_the_loop(get_settings))]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]
RoomsDep = Annotated[RoomManager, Depends(on_the_loop(room_manager))]
DocumentsDep = Annotated[DocumentService, Depends(on_the_loop(documents))]
PersonalDataDep = Annotated[PersonalData, Depends(on_the_loop(personal_data))]
RevokedHooksDep = Annotated[RevokedHooks, Depends(on_the_loop(revoked_hooks))]
CourseEventsDep = Annotated[CourseEvents, Depends(on_the_loop(course_events))]
CatalogueDep = Annotated[Catalogue, Depends(on_the_loop(event_catalogue))]
WriterSessionsDep = Annotated[
    async_sessionmaker[AsyncSession], Depends(on_the_loop(writer_sessions))
]
MetricsDep = Annotated[Metrics, Depends(on_the_loop(node_metrics))]
SandboxDep = Annotated[SandboxPool, Depends(on_the_loop(sandbox_pool))]
PracticeThrottleDep = Annotated[PracticeThrottle, Depends(on_the_loop(practice_throttle))]
