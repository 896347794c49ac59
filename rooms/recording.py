"""Room recording: hosts start and stop it; this node writes each of its tracks to a file.

A recording is a database row (started, stopped); starting or stopping it is announced as
the sequenced room event ``media.recording {on, by, recording_id}`` (in the snapshot under
``media.recording``). Every node that forwards tracks of the room records its own: the
node that ran the command at once, the others when they apply the event, and any node
when a track is published while a recording is on. One ``recording_files`` row per track.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.events import emit
from media.errors import MediaError
from media.publisher import PublishedTrack
from media.recording import TrackRecorder, codec_of, container_for
from persistence.models import AuditEvent, Recording, RecordingFile
from realtime.broker import Publication
from rooms import frames
from rooms.domain_events import RECORDING_STOPPED, recording_stopped
from rooms.manager import RoomManager, now_utc
from rooms.media import MediaSignalling
from rooms.media_commands import Record
from rooms.state import Event, new_event

if TYPE_CHECKING:
    from rooms.connection import RoomConnection

logger = logging.getLogger("liveclass.media")
Note = Callable[[AsyncSession, Recording], None]  # adds e.g. an audit record to the commit


class AlreadyRecording(MediaError):
    """A recording of the room is running already."""

    code = "already-recording"


class NotRecording(MediaError):
    """No recording of the room is running (or not the one named)."""

    code = "not-recording"


def recording_event(recording: Recording, *, on: bool, by: str | None) -> Event:
    """``media.recording``: a recording of the room started (``on``) or stopped."""
    return new_event(
        "media.recording",
        by=by,
        at=now_utc().isoformat(),
        on=on,
        recording_id=str(recording.id),
    )


@dataclass
class _Running:
    """A recording on this node: its track recorders and their tasks, by track id."""

    recording_id: uuid.UUID
    tasks: dict[str, tuple[TrackRecorder, asyncio.Task[None]]] = field(default_factory=dict)


class RoomRecorder:
    """Starts and stops room recordings and records this node's tracks while they run."""

    def __init__(
        self,
        media: MediaSignalling,
        manager: RoomManager,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        directory: Path,
        node_id: str,
    ) -> None:
        self.sfu = media.sfu
        self.manager = manager
        self.sessions = sessionmaker
        self.directory = directory
        self.node_id = node_id
        self.running: dict[str, _Running] = {}  # by room id
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        media.performers[Record] = self.perform
        self.sfu.track_listeners.append(self._on_track)
        manager.publication_observers.append(self._observe)

    # ------------------------------------------------------------------ commands

    async def start(
        self,
        room_id: str,
        *,
        by: str,
        session: AsyncSession | None = None,
        note: Note | None = None,
    ) -> Recording:
        """Start recording ``room_id`` (AlreadyRecording if on); returns the new row."""
        async with self._lock(room_id), self._session(session) as db:
            if await self.current(db, room_id) is not None:
                raise AlreadyRecording("This room is being recorded already.")
            recording = Recording(room_id=uuid.UUID(room_id), started_by=uuid.UUID(by))
            db.add(recording)
            await db.flush()
            if note is not None:
                note(db, recording)
            await db.commit()
            self.begin(room_id, recording.id)
        await self.manager.publish(room_id, [recording_event(recording, on=True, by=by)])
        return recording

    async def stop(
        self,
        room_id: str,
        *,
        by: str | None,
        recording_id: uuid.UUID | None = None,
        session: AsyncSession | None = None,
        note: Note | None = None,
    ) -> Recording:
        """Stop the running recording (NotRecording if none, or not ``recording_id``).

        Returns once this node's files are closed and their rows complete.
        """
        async with self._lock(room_id), self._session(session) as db:
            recording = await self.current(db, room_id)
            if recording is None or recording_id not in (None, recording.id):
                raise NotRecording("This recording is not running.")
            recording.stopped_at = now_utc()
            recording.stopped_by = uuid.UUID(by) if by else None
            if note is not None:
                note(db, recording)
            await _emit_stopped(db, recording)
            await db.commit()
        await self.manager.publish(room_id, [recording_event(recording, on=False, by=by)])
        await self.end(room_id)
        return recording

    async def current(self, session: AsyncSession, room_id: str) -> Recording | None:
        """The room's running recording, if any."""
        query = select(Recording).where(
            Recording.room_id == uuid.UUID(room_id), Recording.stopped_at.is_(None)
        )
        return (await session.execute(query.limit(1))).scalars().first()

    async def perform(self, effect: Record, conn: RoomConnection) -> dict[str, Any]:
        """``media.record {on}`` on the room channel, decided (grant moderate) by its
        handler in ``rooms/media_commands.py``; audited as sent over the room channel."""
        room_id = effect.room_id

        def note(db: AsyncSession, recording: Recording) -> None:
            action = "recording.start" if effect.on else "recording.stop"
            db.add(
                AuditEvent(
                    actor_id=uuid.UUID(effect.by),
                    actor_kind="user",
                    action=action,
                    target_type="room",
                    target_id=room_id,
                    detail={"recording_id": str(recording.id), "via": "room-channel"},
                )
            )

        if effect.on:
            recording = await self.start(room_id, by=effect.by, note=note)
        else:
            recording = await self.stop(room_id, by=effect.by, note=note)
        return {"recording_id": str(recording.id), "on": effect.on}

    # ------------------------------------------------------------------ this node's tracks

    def begin(self, room_id: str, recording_id: uuid.UUID) -> None:
        """Record every track this node forwards in the room (idempotent)."""
        running = self.running.get(room_id)
        if running is not None and running.recording_id == recording_id:
            return
        if running is not None:
            self._spawn(self.end(room_id))
        running = self.running[room_id] = _Running(recording_id)
        media_room = self.sfu.room(room_id)
        for track in list(media_room.tracks.values()) if media_room else []:
            self._record(room_id, running, track)

    async def end(self, room_id: str) -> None:
        """Stop this node's recorders of the room; wait until their files are closed."""
        running = self.running.pop(room_id, None)
        if running is None:
            return
        for recorder, _task in running.tasks.values():
            recorder.stop()
        await asyncio.gather(*(t for _r, t in running.tasks.values()), return_exceptions=True)

    async def forget_user(self, user_id: str) -> None:
        """Stop recording ``user_id`` everywhere on this node (their data is being erased)."""
        ending = []
        for running in self.running.values():
            for recorder, task in running.tasks.values():
                if recorder.track.user_id == user_id:
                    recorder.stop()
                    ending.append(task)
        await asyncio.gather(*ending, return_exceptions=True)

    def _record(self, room_id: str, running: _Running, track: PublishedTrack) -> None:
        if track.track_id in running.tasks or track.ended:
            return
        try:
            container = container_for(codec_of(track))
        except KeyError:
            logger.warning("codec not recordable", extra={"track_id": track.track_id})
            return
        name = f"{track.user_id}-{track.source}-{track.track_id}{container.extension}"
        relative = Path(room_id) / str(running.recording_id) / name
        recorder = TrackRecorder(track, self.directory / relative)
        task = asyncio.get_running_loop().create_task(
            self._write(running.recording_id, track, recorder, relative)
        )
        running.tasks[track.track_id] = (recorder, task)

    async def _write(
        self, recording_id: uuid.UUID, track: PublishedTrack, recorder: TrackRecorder, path: Path
    ) -> None:
        row = RecordingFile(
            recording_id=recording_id,
            track_id=track.track_id,
            user_id=_uuid_or_none(track.user_id),
            source=track.source,
            kind=track.kind,
            codec=recorder.codec,
            content_type=recorder.container.content_type,
            path=str(path),
            node_id=self.node_id,
        )
        try:
            async with self.sessions() as db:
                db.add(row)
                await db.commit()
        except Exception:
            logger.exception("recording not registered", extra={"track_id": track.track_id})
            recorder.stop()
        result = await recorder.run()
        async with self.sessions() as db:
            await db.execute(
                update(RecordingFile)
                .where(RecordingFile.id == row.id)
                .values(
                    stopped_at=now_utc(),
                    bytes=result.bytes,
                    duration=result.duration,
                    frames=result.frames,
                )
            )
            await db.commit()

    def _on_track(self, room_id: str, change: str, track: PublishedTrack, _reason: str) -> None:
        if change != "published":
            return  # an unpublished track's recorder ends with its packet stream
        running = self.running.get(room_id)
        if running is not None:
            self._record(room_id, running, track)
        else:
            self._spawn(self._catch_up(room_id))

    async def _catch_up(self, room_id: str) -> None:
        """A track appeared with no recording running here: is one on (another node's)?"""
        async with self.sessions() as db:
            recording = await self.current(db, room_id)
        if recording is not None and room_id not in self.running:
            self.begin(room_id, recording.id)

    def _observe(self, publication: Publication) -> None:
        payload = publication.payload
        if b'"media.recording"' not in payload and b'"room.ended"' not in payload:
            return
        if publication.channel.endswith(frames.VOLATILE_SUFFIX):
            return
        event = orjson.loads(payload)
        room_id = frames.room_of(publication.channel)
        if event.get("type") == "media.recording":
            if event.get("on"):
                self.begin(room_id, uuid.UUID(event["recording_id"]))
            elif (running := self.running.get(room_id)) and str(running.recording_id) == event[
                "recording_id"
            ]:
                self._spawn(self.end(room_id))
        elif event.get("type") == "room.ended" and room_id in self.running:
            self._spawn(self._room_ended(room_id))

    async def _room_ended(self, room_id: str) -> None:
        async with self.sessions() as db:
            stopped = await db.execute(
                update(Recording)
                .where(Recording.room_id == uuid.UUID(room_id), Recording.stopped_at.is_(None))
                .values(stopped_at=now_utc())
                .returning(Recording)
            )
            # Every node of the room runs this: only the one whose update stopped it emits.
            for recording in stopped.scalars().all():
                await _emit_stopped(db, recording)
            await db.commit()
        await self.end(room_id)

    # ------------------------------------------------------------------ plumbing

    def _lock(self, room_id: str) -> asyncio.Lock:
        return self._locks.setdefault(room_id, asyncio.Lock())

    @contextlib.asynccontextmanager
    async def _session(self, given: AsyncSession | None) -> AsyncIterator[AsyncSession]:
        if given is not None:
            yield given
            return
        async with self.sessions() as db:
            yield db

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Shutdown: close every file this node writes (the recordings stay on)."""
        for room_id in list(self.running):
            await self.end(room_id)
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task


async def _emit_stopped(db: AsyncSession, recording: Recording) -> None:
    """``recording.stopped`` into the outbox, committed with the stop."""
    assert recording.stopped_at is not None
    payload = recording_stopped(
        recording_id=recording.id,
        room_id=recording.room_id,
        started_by=recording.started_by,
        stopped_by=recording.stopped_by,
        started_at=recording.started_at,
        stopped_at=recording.stopped_at,
    )
    await emit(db, RECORDING_STOPPED, payload, aggregate_id=recording.room_id)


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
