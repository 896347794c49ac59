"""Room recordings REST: hosts start and stop recording, list recordings, download files,
and read a recording's captions (the class transcript as WebVTT, aligned with it)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import FileResponse, Response

from lms.audit.service import audit, audit_now
from lms.auth import Principal
from lms.deps import SessionDep, SettingsDep
from lms.errors import Conflict, NotFound
from lms.permissions import Permission, require
from lms.rooms import access
from lms.rooms.media_deps import RecorderDep
from media.errors import MediaUnavailable
from persistence.models import Recording, RecordingFile, Room
from rooms.caption_store import transcript
from rooms.recording import AlreadyRecording, Note, NotRecording, RoomRecorder
from rooms.transcript import TranscriptLine, webvtt

router = APIRouter(prefix="/api/v1/rooms", tags=["recordings"])
Member = Annotated[Principal, Depends(require(Permission.ROOMS_READ))]
Manager = Annotated[Principal, Depends(require(Permission.ROOMS_MANAGE))]


class RecordingFileOut(BaseModel):
    """One recorded track: a file of its encoded frames."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    track_id: str
    user_id: uuid.UUID | None
    source: str
    kind: str
    codec: str
    content_type: str
    started_at: datetime
    stopped_at: datetime | None
    bytes: int
    duration: float
    url: str = ""


class RecordingOut(BaseModel):
    """A recording of a room, from start to stop, and its files."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    room_id: uuid.UUID
    on: bool
    started_by: uuid.UUID | None
    stopped_by: uuid.UUID | None
    started_at: datetime
    stopped_at: datetime | None
    files: list[RecordingFileOut]
    captions_url: str = ""


def _available(recorder: RoomRecorder | None) -> RoomRecorder:
    """The node's recorder, or 503 when media is disabled."""
    if recorder is None:
        raise MediaUnavailable("Media is disabled on this server.")
    return recorder


def _noting(request: Request, room: Room, action: str) -> Note:
    """The recorder's ``note`` callback: audit ``action`` in the recorder's transaction."""

    def note(db: AsyncSession, recording: Recording) -> None:
        rid = str(recording.id)
        audit(db, request, action, target_type="room", target_id=room.id, recording_id=rid)

    return note


async def _out_all(session: AsyncSession, recordings: list[Recording]) -> list[RecordingOut]:
    """The recordings with their files, read in one query."""
    ids = [r.id for r in recordings]
    rows = await session.execute(
        select(RecordingFile)
        .where(RecordingFile.recording_id.in_(ids))
        .order_by(RecordingFile.started_at)
    )
    files: dict[uuid.UUID, list[RecordingFileOut]] = {i: [] for i in ids}
    room_of = {r.id: r.room_id for r in recordings}
    for f in rows.scalars():
        url = f"/api/v1/rooms/{room_of[f.recording_id]}/recordings/{f.recording_id}/files/{f.id}"
        files[f.recording_id].append(
            RecordingFileOut.model_validate(f).model_copy(update={"url": url})
        )
    return [
        RecordingOut(
            id=r.id,
            room_id=r.room_id,
            on=r.stopped_at is None,
            started_by=r.started_by,
            stopped_by=r.stopped_by,
            started_at=r.started_at,
            stopped_at=r.stopped_at,
            files=files[r.id],
            captions_url=f"/api/v1/rooms/{r.room_id}/recordings/{r.id}/captions.vtt",
        )
        for r in recordings
    ]


async def _out(session: AsyncSession, recording: Recording) -> RecordingOut:
    return (await _out_all(session, [recording]))[0]


@router.get("/{room_id}/recordings", summary="The room's recordings and their files")
async def list_recordings(
    room_id: uuid.UUID, session: SessionDep, principal: Member
) -> list[RecordingOut]:
    """Newest first; hosts (and admins) only."""
    room, _ = await access.hosted_room(session, room_id, principal)
    rows = await session.execute(
        select(Recording).where(Recording.room_id == room.id).order_by(Recording.started_at.desc())
    )
    return await _out_all(session, list(rows.scalars().all()))


@router.post(
    "/{room_id}/recordings", status_code=status.HTTP_201_CREATED, summary="Start recording"
)
async def start_recording(
    room_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Manager,
    recorder: RecorderDep,
) -> RecordingOut:
    """Record every published track (present now or published later) until stopped."""
    room, _ = await access.hosted_room(session, room_id, principal)
    if room.status == "ended":
        raise access.RoomGone("This class has ended.")
    running = _available(recorder)
    try:
        recording = await running.start(
            str(room.id),
            by=str(principal.user_id),
            session=session,
            note=_noting(request, room, "recording.start"),
        )
    except AlreadyRecording as exc:
        raise Conflict(exc.message) from None
    return await _out(session, recording)


@router.post("/{room_id}/recordings/{recording_id}/stop", summary="Stop recording")
async def stop_recording(
    room_id: uuid.UUID,
    recording_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Manager,
    recorder: RecorderDep,
) -> RecordingOut:
    """Stop the running recording; its files are complete when this returns."""
    room, _ = await access.hosted_room(session, room_id, principal)
    running = _available(recorder)
    found = await session.get(Recording, recording_id)
    if found is None or found.room_id != room.id:
        raise NotFound("No such recording.")
    try:
        recording = await running.stop(
            str(room.id),
            by=str(principal.user_id),
            recording_id=recording_id,
            session=session,
            note=_noting(request, room, "recording.stop"),
        )
    except NotRecording:
        raise Conflict("This recording has stopped already.") from None
    return await _out(session, recording)


@router.get(
    "/{room_id}/recordings/{recording_id}/files/{file_id}",
    summary="Download a recorded track",
    response_class=FileResponse,
)
async def download_file(
    room_id: uuid.UUID,
    recording_id: uuid.UUID,
    file_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Member,
    settings: SettingsDep,
) -> FileResponse:
    """The file as written (WebM or Matroska), streamed; hosts (and admins) only."""
    room, _ = await access.hosted_room(session, room_id, principal)
    row = await session.get(RecordingFile, file_id)
    recording = await session.get(Recording, recording_id)
    mismatch = recording is None or recording.room_id != room.id
    if row is None or mismatch or row.recording_id != recording_id:
        raise NotFound("No such recording file.")
    if row.stopped_at is None:
        raise Conflict("This track is still being recorded.")
    directory = settings.resolved_recordings_dir
    path = (directory / row.path).resolve()
    if not path.is_relative_to(directory) or not path.is_file():
        raise NotFound("The file is not stored on this server.")
    await audit_now(
        session,
        request,
        "recording.download",
        target_type="recording_file",
        target_id=row.id,
        room_id=str(room.id),
        recording_id=str(recording_id),
    )
    return FileResponse(path, media_type=row.content_type, filename=path.name)


@router.get(
    "/{room_id}/recordings/{recording_id}/captions.vtt",
    summary="A recording's captions (WebVTT)",
    response_class=Response,
    responses={200: {"content": {"text/vtt": {}}}},
)
async def recording_captions(
    room_id: uuid.UUID,
    recording_id: uuid.UUID,
    session: SessionDep,
    principal: Member,
) -> Response:
    """The final caption lines (typed and automatic) spoken while the recording ran, as a
    WebVTT captions track whose times count from the recording's start (cues name their
    speaker). Lines still to come appear while the recording is on; hosts (and admins)."""
    room, _ = await access.hosted_room(session, room_id, principal)
    recording = await session.get(Recording, recording_id)
    if recording is None or recording.room_id != room.id:
        raise NotFound("No such recording.")
    rows = await transcript(
        session, room.id, since=recording.started_at, until=recording.stopped_at
    )
    lines = [TranscriptLine(r.speaker_name, r.text, r.started_at, r.ended_at) for r in rows]
    body = webvtt(lines, origin=recording.started_at, until=recording.stopped_at, title=room.title)
    return Response(body, media_type="text/vtt; charset=utf-8")
