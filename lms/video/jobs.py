"""The video domain's background work: a consumer of ``file.uploaded`` that makes a video of
every uploaded video file, and the ``video.transcode`` job that turns it into a ladder.

The job copies the original out of the blob store (or reads it in place on the local store;
a published room recording's picture and voices are muxed into one file first, on the node
whose recordings directory holds them),
runs the ladder in a child process (``process.run_ladder``) with its progress written to the
video row, stores every output under ``videos/{id}/`` and marks the video ready. A file we
cannot read fails the video at once with the reason an instructor reads (no retry: the same
bytes fail the same way); a crashed or killed transcoder is retried, then fails. A job
cancelled by an admin kills the child.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.errors import JobCancelled
from jobs.events import Consumer, Event
from jobs.types import JobContext, JobType, Periodic
from lms.files.events import FILE_UPLOADED
from lms.files.storage import open_blob_store
from lms.video import mux, service
from lms.video.errors import TranscodeFailed, UnreadableVideo
from lms.video.process import WorkerLimits, run_ladder
from lms.video.transcode import Result
from persistence.blobs import BlobStore
from persistence.models import File, Recording, RecordingFile, Room, Video
from settings import Settings

PROGRESS_STEP = 0.02
"""Progress is written to the video row every 2% (not on every decoded second)."""


def transcode_job(settings: Settings) -> JobType:
    """``video.transcode`` on this node's blob store and scratch directory."""
    where = Originals(open_blob_store(settings), settings.resolved_recordings_dir, settings.node_id)
    scratch = (settings.data_dir / "transcode").resolve()
    limits = WorkerLimits(wall_seconds=float(settings.video_transcode_max_seconds))

    async def transcode(ctx: JobContext) -> None:
        await run(ctx, where, scratch, limits)

    return dataclasses.replace(service.TRANSCODE, handler=transcode)


SWEEP_SCHEDULE = "@every 1h"


def sweep_job(settings: Settings) -> Periodic:
    """``video.sweep`` every hour: ladders left by deleted videos are removed."""
    blobs = open_blob_store(settings)

    async def sweep(ctx: JobContext) -> None:
        removed = await service.sweep(ctx.sessions, blobs)
        await ctx.progress(done=removed, note="blobs removed")

    job = JobType(
        "video.sweep", sweep, max_attempts=3, timeout=1800.0, summary="remove orphaned ladders"
    )
    return Periodic(job, SWEEP_SCHEDULE)


def consumer() -> Consumer:
    """Make a video of each uploaded video file (once: a video per file)."""

    async def video_of(session: AsyncSession, event: Event) -> None:
        file = await session.get(File, int(event.payload.model_dump()["file_id"]))
        if file is not None and service.is_video(file):
            await service.for_file(session, file, file.uploader_id)

    return Consumer("video.uploads", (FILE_UPLOADED.name,), video_of)


@dataclass(frozen=True)
class Originals:
    """Where this node finds originals: the blob store (uploads) and its recordings."""

    blobs: BlobStore
    recordings: Path
    node_id: str


@dataclass(frozen=True)
class Original:
    """A video's original: an uploaded file's blob, or a recording's picture and voices."""

    blob_key: str | None = None
    picture: mux.Track | None = None
    voices: tuple[mux.Track, ...] = ()


async def run(ctx: JobContext, where: Originals, scratch: Path, limits: WorkerLimits) -> None:
    """One transcode attempt of the video named in the job's arguments."""
    video_id = uuid.UUID(str(ctx.args["video_id"]))
    blobs = where.blobs
    async with ctx.sessions() as session:
        video = await session.get(Video, video_id)
        if video is None or video.status == "ready":
            return
        try:
            original = await _original(session, video, where)
        except UnreadableVideo as exc:
            await session.rollback()
            await _fail(ctx, video_id, str(exc))
            return
        if original is None:
            return
        video.status, video.progress, video.error = "processing", 0.0, None
        await session.commit()
    await asyncio.to_thread(scratch.mkdir, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix=f"{video_id}-") as folder:
        work = Path(folder)
        try:
            source = await _source(blobs, original, work)
            result = await _ladder(ctx, source, work / "ladder", limits, video_id)
            await _store(blobs, work / "ladder", service.prefix(video_id))
        except UnreadableVideo as exc:
            await _fail(ctx, video_id, str(exc))
            return
        except TranscodeFailed as exc:
            if ctx.attempt < service.TRANSCODE.max_attempts:
                raise
            await _fail(ctx, video_id, str(exc))
            return
        except JobCancelled:
            await _fail(ctx, video_id, "the transcode was cancelled")
            raise
    async with ctx.sessions() as session:
        await session.execute(
            update(Video)
            .where(Video.id == video_id)
            .values(
                status="ready",
                progress=1.0,
                duration=result.duration,
                width=result.width,
                height=result.height,
                ladder=result.to_json(),
            )
        )
        await session.commit()


async def _original(session: AsyncSession, video: Video, where: Originals) -> Original | None:
    """The video's original as this node can read it (None: it is gone)."""
    if video.file_id is not None:
        file = await session.get(File, video.file_id)
        return Original(blob_key=file.blob_key) if file is not None else None
    recording = await session.get(Recording, video.recording_id)
    if recording is None:
        return None
    room = await session.get(Room, recording.room_id)
    rows = await session.scalars(
        select(RecordingFile).where(
            RecordingFile.recording_id == recording.id,
            RecordingFile.stopped_at.is_not(None),
            RecordingFile.frames > 0,
        )
    )
    files = list(rows.all())
    elsewhere = {f.node_id for f in files} - {where.node_id}
    if elsewhere:
        raise UnreadableVideo(f"the recording's tracks are on node {sorted(elsewhere)[0]}")

    def track(row: RecordingFile) -> mux.Track:
        offset = (row.started_at - recording.started_at).total_seconds()
        return mux.Track(where.recordings / row.path, max(0.0, offset))

    pictures = [f for f in files if f.kind == "video"]
    host = room.created_by if room is not None else None
    pictures.sort(key=lambda f: (f.source != "screen", f.user_id != host, f.started_at))
    if not pictures:
        raise UnreadableVideo("the recording has no picture to publish")
    voices = tuple(track(f) for f in files if f.kind == "audio")
    return Original(picture=track(pictures[0]), voices=voices)


async def _source(blobs: BlobStore, original: Original, work: Path) -> Path:
    """The original as one local file: a blob in place on the local store or copied out,
    or a recording's picture and voices muxed into one file."""
    if original.picture is not None:
        target = work / "recording.mkv"
        return await asyncio.to_thread(
            mux.mux_recording, original.picture, list(original.voices), target
        )
    assert original.blob_key is not None
    local = blobs.local_path(original.blob_key)
    if local is not None:
        return local
    path = work / "source"
    with path.open("wb") as out:
        async for chunk in blobs.read(original.blob_key):
            out.write(chunk)
    return path


async def _ladder(
    ctx: JobContext, source: Path, folder: Path, limits: WorkerLimits, video_id: uuid.UUID
) -> Result:
    written = 0.0

    async def progress(fraction: float) -> None:
        nonlocal written
        if fraction - written < PROGRESS_STEP:
            return
        written = fraction
        async with ctx.sessions() as session:
            await session.execute(
                update(Video).where(Video.id == video_id).values(progress=min(fraction, 0.99))
            )
            await session.commit()
        await ctx.progress(done=round(fraction, 3), note="transcoding")

    task = asyncio.ensure_future(run_ladder(source, folder, progress=progress, limits=limits))
    cancelled = asyncio.ensure_future(ctx.wait_cancelled())
    try:
        await asyncio.wait({task, cancelled}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        cancelled.cancel()
    if not task.done():
        task.cancel()  # kills the child process
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise JobCancelled("cancelled on request")
    return task.result()


async def _store(blobs: BlobStore, folder: Path, prefix: str) -> None:
    """Every file the ladder wrote, under ``prefix`` (moved, not copied, on the local store)."""
    for path in await asyncio.to_thread(_files_in, folder):
        key = prefix + path.relative_to(folder).as_posix()
        await blobs.put_file(key, path, content_type=_content_type(path))
    shutil.rmtree(folder, ignore_errors=True)


def _files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _content_type(path: Path) -> str:
    return service.CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


async def _fail(ctx: JobContext, video_id: uuid.UUID, reason: str) -> None:
    async with ctx.sessions() as session:
        await session.execute(
            update(Video).where(Video.id == video_id).values(status="failed", error=reason)
        )
        await session.commit()
