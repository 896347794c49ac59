"""The instructor's live grid of one lab on one node: a tile per learner's workspace,
derived from what the node already has.

While an instructor's feed is open here, the grid holds each workspace document loaded in
the node's registry (`acquire`) and follows its channel like a connection would: learners'
updates arrive from this node or, through the broker, from any other (the registry applies
them to its copy before fan-out). An update only marks its tile; every `TICK` seconds the
grid re-reads the marked tiles (the first lines of the current file from the loaded
document) and sends one `workspaces` message with the changed tiles, encoded once for every
viewer. The progress fields come from the database when a staff signal says they changed,
read by a loader task beside the ticks (its tiles go out with the next tick), so a slow
query never delays the thumbnails, and ticks start `TICK` apart however long one took. So
the instructor's cost does not grow with the typing rate: at most one summary per
workspace per tick, and no Yjs decoding on the instructor's side at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lms.labs import signals, workspace_docs
from lms.labs.signals import LabSignals
from persistence.models import Lab, LabCompletion, LabHelpRequest, LabWorkspace, User
from persistence.models.base import utcnow
from realtime.connection import Frame
from realtime.errors import RealtimeError
from realtime.yjs.document import LiveDocument
from realtime.yjs.registry import DocumentRegistry

logger = logging.getLogger("liveclass.labs")
TICK = 0.25
"""Seconds between two summaries of the same workspace at most (the grid's coalescing)."""


class Viewer:
    """What the grid sends to: a feed socket of an instructor."""

    def offer(self, frame: Frame) -> bool:
        """Queue a frame without waiting."""
        raise NotImplementedError


class _DocWatch:
    """The grid's membership in one workspace document's channel."""

    def __init__(self, grid: LabGrid, user_id: uuid.UUID, conn_id: int) -> None:
        self.grid = grid
        self.user_id = user_id
        self._conn_id = conn_id

    @property
    def conn_id(self) -> int:
        return self._conn_id

    def offer(self, frame: Frame) -> bool:
        if isinstance(frame, bytes) and frame[:2] in (b"\x00\x02", b"\x00\x01"):
            self.grid.edited(self.user_id)
        return True

    def stop(self, error: RealtimeError) -> None:
        self.grid.lost(self.user_id)


class Tile:
    """One learner's workspace as the grid shows it."""

    def __init__(self, user_id: uuid.UUID, document: str) -> None:
        self.user_id = user_id
        self.document = document
        self.doc: LiveDocument | None = None
        self.watch: _DocWatch | None = None
        self.fields: dict[str, Any] = {}
        self.file = ""
        self.thumbnail = ""
        self.lines = 0
        self.edited_at: datetime | None = None

    def summary(self) -> dict[str, Any]:
        """The tile's JSON."""
        activity = self.fields.get("last_activity_at")
        if self.edited_at is not None and (activity is None or self.edited_at > activity):
            activity = self.edited_at
        return {
            "user_id": str(self.user_id),
            "document": self.document,
            "file": self.file,
            "thumbnail": self.thumbnail,
            "lines": self.lines,
            **self.fields,
            "last_activity_at": activity.isoformat() if activity else None,
            "edited_at": self.edited_at.isoformat() if self.edited_at else None,
        }


class LabGrid:
    """The tiles of one lab on this node while at least one instructor watches it."""

    def __init__(
        self,
        lab_id: uuid.UUID,
        *,
        registry: DocumentRegistry,
        sessions: async_sessionmaker[AsyncSession],
        lab_signals: LabSignals,
    ) -> None:
        self.lab_id = lab_id
        self.registry = registry
        self.sessions = sessions
        self.signals = lab_signals
        self.viewers: set[Viewer] = set()
        self.tiles: dict[uuid.UUID, Tile] = {}
        self.files: list[str] = []
        self.step_files: list[str] = []
        self._edited: set[uuid.UUID] = set()
        self._changed: set[uuid.UUID] = set()
        self._loaded: set[uuid.UUID] = set()
        self._loader: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.summaries_sent = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load every workspace's tile and follow the lab's staff signals."""
        try:
            await self.signals.hub.join(signals.staff_channel(self.lab_id), self)
            async with self.sessions() as session:
                lab = await session.get(Lab, self.lab_id)
                if lab is not None:
                    self.files = [str(f["name"]) for f in lab.files]
                    self.step_files = [str(s.get("file") or "") for s in lab.steps]
                users = list(
                    (
                        await session.scalars(
                            select(LabWorkspace.user_id).where(LabWorkspace.lab_id == self.lab_id)
                        )
                    ).all()
                )
            await self._load(users)
            self._task = asyncio.get_running_loop().create_task(self._run())
            self.ready.set_result(None)
        except BaseException as exc:
            self.ready.set_exception(exc)
            self.ready.exception()
            raise

    async def close(self) -> None:
        """Let go of every document and signal."""
        self.signals.hub.leave(signals.staff_channel(self.lab_id), self)
        for task in (self._task, self._loader):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for tile in self.tiles.values():
            self._drop(tile)

    def snapshot(self) -> list[dict[str, Any]]:
        """Every tile, for a viewer's welcome."""
        return [tile.summary() for tile in self.tiles.values()]

    # ------------------------------------------------------------------ inputs

    def offer(self, frame: Frame) -> bool:
        """A staff signal: a learner's progress, check or help request changed."""
        try:
            message = json.loads(frame)
            self._changed.add(uuid.UUID(str(message["user_id"])))
            self._wake.set()
        except (ValueError, KeyError, TypeError):
            pass
        return True

    def edited(self, user_id: uuid.UUID) -> None:
        """A workspace document changed."""
        tile = self.tiles.get(user_id)
        if tile is not None:
            tile.edited_at = utcnow()
        self._edited.add(user_id)
        self._wake.set()

    def lost(self, user_id: uuid.UUID) -> None:
        """A workspace document was dropped (deleted): load it again."""
        tile = self.tiles.get(user_id)
        if tile is not None:
            tile.doc = None
        self._changed.add(user_id)
        self._wake.set()

    # ------------------------------------------------------------------ work

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            began = loop.time()
            try:
                self._tick()
            except Exception:
                logger.exception("lab grid tick failed")
            if self._changed and self._loader is None:
                self._loader = loop.create_task(self._load_changed())
            # Ticks start TICK apart (not TICK after the last one ended): an edit waits at
            # most one interval, however long a tick took on a busy machine.
            await asyncio.sleep(max(0.0, began + TICK - loop.time()))

    async def _load_changed(self) -> None:
        """Read the database's part of the tiles the staff signals named, off the tick: a
        slow query (a busy database) never holds back the thumbnails of edits."""
        try:
            while self._changed:
                changed, self._changed = self._changed, set()
                await self._load(changed)
                self._loaded |= changed
                self._wake.set()
        except Exception:
            logger.exception("lab grid load failed")
        finally:
            self._loader = None

    def _tick(self) -> None:
        """One summary of the tiles edited or loaded since the last: no I/O, no waiting."""
        loaded, self._loaded = self._loaded, set()
        edited, self._edited = self._edited, set()
        touched = loaded | edited
        for user_id in edited:
            tile = self.tiles.get(user_id)
            if tile is not None:
                self._read(tile)
        items = [self.tiles[u].summary() for u in touched if u in self.tiles]
        if not items:
            return
        frame = json.dumps({"type": "workspaces", "items": items}, separators=(",", ":"))
        for viewer in list(self.viewers):
            viewer.offer(frame)
        self.summaries_sent += len(items)

    async def _load(self, users: Iterable[uuid.UUID]) -> None:
        wanted = list(users)
        async with self.sessions() as session:
            fields = await tile_fields(session, self.lab_id, wanted)
        for user_id, found in fields.items():
            tile = self.tiles.get(user_id)
            if tile is None:
                name = workspace_docs.document_name(self.lab_id, user_id)
                tile = self.tiles[user_id] = Tile(user_id, name)
            tile.fields = found
            if tile.doc is None:
                await self._acquire(tile)
            self._read(tile)

    async def _acquire(self, tile: Tile) -> None:
        try:
            document = await self.registry.acquire(tile.document)
        except Exception:
            logger.warning("lab grid could not load %s", tile.document)
            return
        watch = _DocWatch(self, tile.user_id, self.registry.new_conn_id())
        try:
            await self.registry.attach(document, watch)
        except BaseException:
            self.registry.release(document)
            raise
        tile.doc, tile.watch = document, watch

    def _drop(self, tile: Tile) -> None:
        if tile.doc is not None and tile.watch is not None:
            self.registry.detach(tile.doc, tile.watch)
            self.registry.release(tile.doc)
        tile.doc = tile.watch = None

    def _read(self, tile: Tile) -> None:
        step = int(tile.fields.get("current_step") or 0)
        wanted = self.step_files[step] if step < len(self.step_files) else ""
        tile.file = wanted or (self.files[0] if self.files else "")
        if tile.doc is None or not tile.file:
            return
        text = workspace_docs.read_file(tile.doc.ydoc, tile.file)
        tile.thumbnail, tile.lines = workspace_docs.thumbnail(text)


async def tile_fields(
    session: AsyncSession, lab_id: uuid.UUID, users: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The database's part of the tiles of ``users``: name, step, checks, help."""
    if not users:
        return {}
    rows = (
        await session.execute(
            select(LabWorkspace, User.name)
            .join(User, User.id == LabWorkspace.user_id)
            .where(LabWorkspace.lab_id == lab_id, LabWorkspace.user_id.in_(users))
        )
    ).all()
    done: dict[uuid.UUID, int] = {}
    for user_id in (
        await session.scalars(
            select(LabCompletion.user_id).where(
                LabCompletion.lab_id == lab_id, LabCompletion.user_id.in_(users)
            )
        )
    ).all():
        done[user_id] = done.get(user_id, 0) + 1
    help_rows = (
        await session.scalars(
            select(LabHelpRequest).where(
                LabHelpRequest.lab_id == lab_id,
                LabHelpRequest.user_id.in_(users),
                LabHelpRequest.status.in_(("open", "taken")),
            )
        )
    ).all()
    helps = {h.user_id: {"id": h.id, "status": h.status, "step_id": h.step_id} for h in help_rows}
    return {
        ws.user_id: {
            "name": name,
            "current_step": ws.current_step,
            "steps_done": done.get(ws.user_id, 0),
            "last_check": ws.last_check,
            "last_activity_at": ws.last_activity_at,
            "progressed_at": ws.progressed_at.isoformat(),
            "resets": ws.resets,
            "help": helps.get(ws.user_id),
        }
        for ws, name in rows
    }
