"""The video domain's rules: a video per uploaded video file, its transcode's state, its
caption tracks, and the signed playback paths a player needs.

Everything of a video lives under the blob prefix ``videos/{id}/`` (the ladder the worker
wrote, captions under ``captions/``), so one signed prefix (``lms.files.signing``) serves
the master playlist, the renditions' playlists and segments (relative URIs resolve under
it), the poster, the seek thumbnails and the captions, for as long as a class lasts.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.queue import enqueue
from jobs.types import JobContext, JobType
from lms.content import structure
from lms.errors import Conflict, InvalidInput, NotFound
from lms.files.service import FileStorage
from lms.files.signing import PrefixGrant, sign_prefix
from lms.video import captions
from lms.video.schemas import CaptionOut, PlaybackOut, RenditionOut, VideoOut
from persistence.blobs import BlobStore
from persistence.models import File, Recording, Video, VideoCaption


async def _unbound(ctx: JobContext) -> None:
    raise RuntimeError("video.transcode runs with the handler lms.video.jobs binds")


TRANSCODE = JobType(
    "video.transcode",
    _unbound,
    max_attempts=3,
    timeout=48 * 3600 + 600.0,  # an outer bound: the worker's own wall-clock cap comes first
    summary="transcode an uploaded video into an HLS ladder",
)
"""The transcode job; ``lms.video.jobs.transcode_job`` binds its handler on a node."""

CONTENT_TYPES: Final = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".ts": "video/mp2t",
    ".jpg": "image/jpeg",
    ".vtt": "text/vtt",
}
"""The types of a ladder's files, by suffix."""

PLAYBACK_TTL: Final = timedelta(hours=8)
"""How long a playback path works: a long lecture watched with pauses, not a year."""
MAX_CAPTION_TRACKS: Final = 20


def prefix(video_id: uuid.UUID) -> str:
    """The blob prefix holding everything of a video."""
    return f"videos/{video_id}/"


def is_video(file: File) -> bool:
    """Whether a file's sniffed type is a video we try to transcode."""
    return file.content_type.split(";")[0].strip().startswith("video/")


async def of_file(session: AsyncSession, file_id: int) -> Video | None:
    """The video made of a file, if any."""
    found: Video | None = await session.scalar(select(Video).where(Video.file_id == file_id))
    return found


async def for_file(session: AsyncSession, file: File, by: uuid.UUID | None) -> Video:
    """The file's video, made and its transcode enqueued in this transaction if new."""
    found = await of_file(session, file.id)
    if found is not None:
        return found
    if not is_video(file):
        raise InvalidInput(f"{file.name} is not a video ({file.content_type}).")
    title = file.name.rsplit(".", 1)[0] or file.name
    video = Video(course_id=file.course_id, file_id=file.id, title=title[:255], created_by=by)
    session.add(video)
    await session.flush()
    await enqueue(session, TRANSCODE, {"video_id": str(video.id)}, ordering_key=f"video:{video.id}")
    return video


async def for_recording(
    session: AsyncSession, recording: Recording, course_id: uuid.UUID, title: str, by: uuid.UUID
) -> tuple[Video, bool]:
    """The recording's video in ``course_id`` (made and its transcode queued if new), and
    whether it was made now."""
    found = await session.scalar(select(Video).where(Video.recording_id == recording.id))
    if found is not None:
        return found, False
    if recording.stopped_at is None:
        raise Conflict("Stop the recording before publishing it.")
    video = Video(course_id=course_id, recording_id=recording.id, title=title[:255], created_by=by)
    session.add(video)
    await session.flush()
    await enqueue(session, TRANSCODE, {"video_id": str(video.id)}, ordering_key=f"video:{video.id}")
    return video, True


async def retry(session: AsyncSession, video: Video) -> None:
    """Transcode a failed video again."""
    if video.status != "failed":
        raise Conflict("Only a video whose transcode failed is transcoded again.")
    video.status, video.progress, video.error = "queued", 0.0, None
    await enqueue(session, TRANSCODE, {"video_id": str(video.id)}, ordering_key=f"video:{video.id}")


async def get(session: AsyncSession, video_id: uuid.UUID) -> Video:
    """A video by id, or 404."""
    found = await session.get(Video, video_id)
    if found is None:
        raise NotFound("No such video.")
    return found


async def of_course(session: AsyncSession, course_id: uuid.UUID) -> list[Video]:
    """A course's videos, newest first."""
    query = select(Video).where(Video.course_id == course_id).order_by(Video.created_at.desc())
    return list((await session.scalars(query)).all())


async def tracks(session: AsyncSession, video_id: uuid.UUID) -> list[VideoCaption]:
    """A video's caption tracks by language."""
    query = select(VideoCaption).where(VideoCaption.video_id == video_id)
    return list((await session.scalars(query.order_by(VideoCaption.language))).all())


@dataclass(frozen=True)
class Ladder:
    """What a finished ladder holds, read from the video row (``transcode.Result.to_json``;
    read here without PyAV, which only the worker side loads)."""

    renditions: tuple[RenditionOut, ...]
    master: str
    poster: str
    thumbnails: str


def ladder_of(video: Video) -> Ladder | None:
    """The finished ladder, if the transcode succeeded."""
    data = video.ladder
    if not data:
        return None
    renditions = tuple(
        RenditionOut(name=r["name"], width=r["width"], height=r["height"], bandwidth=r["bandwidth"])
        for r in data["renditions"]
    )
    return Ladder(renditions, data["master"], data["poster"], data["thumbnails"])


def out(video: Video, tracks: list[VideoCaption], storage: FileStorage | None) -> VideoOut:
    """The video's schema; with ``storage``, signed playback paths once it is ready."""
    ladder = ladder_of(video)
    return VideoOut(
        id=video.id,
        course_id=video.course_id,
        file_id=video.file_id,
        recording_id=video.recording_id,
        title=video.title,
        status=video.status,
        progress=round(video.progress, 4),
        error=video.error,
        duration=video.duration,
        width=video.width,
        height=video.height,
        renditions=list(ladder.renditions) if ladder else [],
        captions=[CaptionOut(language=c.language, label=c.label, cues=c.cues) for c in tracks],
        playback=_playback(video, ladder, tracks, storage) if storage and ladder else None,
    )


def _playback(
    video: Video, ladder: Ladder, tracks: list[VideoCaption], storage: FileStorage
) -> PlaybackOut:
    expires = datetime.now(UTC).replace(microsecond=0) + PLAYBACK_TTL
    base = sign_prefix(storage.secret, PrefixGrant(prefix(video.id), int(expires.timestamp())))
    return PlaybackOut(
        master=base + ladder.master,
        poster=base + ladder.poster,
        thumbnails=base + ladder.thumbnails,
        captions={c.language: base + c.blob_key.removeprefix(prefix(video.id)) for c in tracks},
        expires_at=expires,
    )


async def add_caption(
    session: AsyncSession,
    storage: FileStorage,
    video: Video,
    *,
    language: str,
    label: str,
    data: bytes,
) -> VideoCaption:
    """Validate a WebVTT file and store it as the video's track for ``language``
    (replacing the one there)."""
    tag = captions.language_tag(language)
    track = captions.validate(data)
    existing = {c.language: c for c in await tracks(session, video.id)}
    if tag not in existing and len(existing) >= MAX_CAPTION_TRACKS:
        raise Conflict(f"A video holds at most {MAX_CAPTION_TRACKS} caption tracks.")
    key = f"{prefix(video.id)}captions/{tag}.vtt"
    await storage.blobs.put(key, _once(track.text.encode()), content_type="text/vtt")
    row = existing.get(tag) or VideoCaption(video_id=video.id, language=tag)
    row.label, row.blob_key, row.cues = label, key, track.cues
    session.add(row)
    await session.flush()
    return row


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def delete(session: AsyncSession, video: Video) -> None:
    """Delete the video row with its tracks and the items showing it (the caller deletes
    its blobs once this commits: ``delete_blobs``)."""
    await structure.delete_items_showing(session, "video", video.id)
    await session.delete(video)


async def delete_blobs(blobs: BlobStore, video_id: uuid.UUID) -> int:
    """Remove everything stored under the video's prefix; how many blobs went."""
    keys = [key async for key in blobs.list(prefix(video_id))]
    for key in keys:
        await blobs.delete(key)
    return len(keys)


async def sweep(sessions: async_sessionmaker[AsyncSession], blobs: BlobStore) -> int:
    """Delete the stored ladders of videos that no longer exist (their original file was
    deleted, which deletes the video row): blobs under ``videos/`` whose id names no video.
    Returns how many blobs went."""
    found: dict[uuid.UUID, list[str]] = {}
    async for key in blobs.list("videos/"):
        try:
            found.setdefault(uuid.UUID(key.split("/")[1]), []).append(key)
        except (IndexError, ValueError):
            continue
    if not found:
        return 0
    async with sessions() as session:
        rows = await session.scalars(select(Video.id).where(Video.id.in_(list(found))))
        alive = set(rows.all())
    gone = [key for video_id, keys in found.items() if video_id not in alive for key in keys]
    for key in gone:
        await blobs.delete(key)
    return len(gone)
