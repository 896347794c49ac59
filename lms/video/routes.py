"""Videos REST: a course's videos, one video with its state and signed playback paths,
making a video of an uploaded file, retrying a failed transcode, caption tracks, deletion.

Uploaded video files become videos by themselves (``lms.video.jobs.consumer``); the POST
below is for a file uploaded before, or to ask again. Staff see every video of the course;
learners see a video through a published item of an open module (``lms.content.reach``).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from lms.audit.service import audit
from lms.auth import Principal
from lms.content import reach
from lms.courses.roles import CourseAction
from lms.courses.routes import authorize
from lms.deps import SessionDep
from lms.errors import Conflict, NotFound
from lms.files import service as files
from lms.files.routes import StorageDep
from lms.files.schemas import FileId
from lms.files.service import FileStorage
from lms.permissions import Permission, require
from lms.video import service
from lms.video.errors import CaptionsTooLarge
from lms.video.schemas import CaptionOut, VideoOut
from persistence.models import Recording, Room, Video, VideoCaption

router = APIRouter(prefix="/api/v1", tags=["videos"])
Reader = Annotated[Principal, Depends(require(Permission.COURSES_READ))]
Editor = Annotated[Principal, Depends(require(Permission.COURSES_MANAGE))]
Language = Annotated[str, Path(min_length=2, max_length=35, pattern=r"^[A-Za-z0-9-]+$")]
Label = Annotated[str, Query(min_length=1, max_length=100)]
MAX_CAPTION_BYTES = 1 << 20


async def _out(session: AsyncSession, video: Video, storage: FileStorage | None) -> VideoOut:
    return service.out(video, await service.tracks(session, video.id), storage)


async def _edited(session: AsyncSession, video_id: uuid.UUID, principal: Principal) -> Video:
    video = await service.get(session, video_id)
    await authorize(session, video.course_id, principal, CourseAction.EDIT)
    return video


@router.get("/courses/{course_id}/videos", summary="A course's videos")
async def list_videos(
    course_id: uuid.UUID, session: SessionDep, principal: Reader
) -> list[VideoOut]:
    """Every video of the course with its transcode's state, newest first (staff)."""
    course, _ = await authorize(session, course_id, principal, CourseAction.VIEW_DRAFTS)
    return [await _out(session, v, None) for v in await service.of_course(session, course.id)]


@router.post("/files/{file_id}/video", summary="Make a video of an uploaded file")
async def make_video(
    file_id: FileId,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Editor,
) -> VideoOut:
    """The file's video (201 when made now, its transcode queued; 200 if it existed)."""
    file = await files.get_file(session, file_id)
    await authorize(session, file.course_id, principal, CourseAction.EDIT)
    existing = await service.of_file(session, file.id)
    video = existing or await service.for_file(session, file, principal.user_id)
    if existing is None:
        audit(session, request, "video.create", target_type="video", target_id=video.id)
        await session.commit()
    response.status_code = status.HTTP_200_OK if existing else status.HTTP_201_CREATED
    return await _out(session, video, None)


@router.post(
    "/rooms/{room_id}/recordings/{recording_id}/video",
    summary="Publish a room recording as a course video",
)
async def publish_recording(
    room_id: uuid.UUID,
    recording_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Editor,
) -> VideoOut:
    """The recording of a course's room as a video of that course: its picture (the screen
    share, else the host's camera) with every voice mixed, transcoded like an upload (201
    when made now, 200 if it existed); put it in a module with a video item."""
    room = await session.get(Room, room_id)
    recording = await session.get(Recording, recording_id)
    if room is None or recording is None or recording.room_id != room.id:
        raise NotFound("No such recording.")
    if room.course_id is None:
        raise Conflict("Only a course's room recordings become course videos.")
    await authorize(session, room.course_id, principal, CourseAction.EDIT)
    title = f"{room.title} ({recording.started_at:%Y-%m-%d})"
    video, made = await service.for_recording(
        session, recording, room.course_id, title, principal.user_id
    )
    if made:
        audit(session, request, "video.create", target_type="video", target_id=video.id)
        await session.commit()
    response.status_code = status.HTTP_201_CREATED if made else status.HTTP_200_OK
    return await _out(session, video, None)


@router.get("/videos/{video_id}", summary="A video")
async def read_video(
    video_id: uuid.UUID, session: SessionDep, principal: Reader, storage: StorageDep
) -> VideoOut:
    """Its state, renditions and caption tracks, and once ready the signed playback paths."""
    video = await service.get(session, video_id)
    course, role = await authorize(session, video.course_id, principal, CourseAction.VIEW)
    if not await reach.reaches_video(session, course, role, principal.user_id, video.id):
        raise NotFound("No such video.")
    return await _out(session, video, storage)


@router.post("/videos/{video_id}/retry", summary="Transcode a failed video again")
async def retry_video(
    video_id: uuid.UUID, request: Request, session: SessionDep, principal: Editor
) -> VideoOut:
    """Queue its transcode again (409 unless it failed)."""
    video = await _edited(session, video_id, principal)
    await service.retry(session, video)
    audit(session, request, "video.retry", target_type="video", target_id=video.id)
    await session.commit()
    return await _out(session, video, None)


@router.delete(
    "/videos/{video_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a video"
)
async def delete_video(
    video_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: Editor,
    storage: StorageDep,
) -> Response:
    """The video, its ladder and captions, and the items showing it; the original file
    stays (delete it from the files)."""
    video = await _edited(session, video_id, principal)
    await service.delete(session, video)
    audit(session, request, "video.delete", target_type="video", target_id=video_id)
    await session.commit()
    await service.delete_blobs(storage.blobs, video_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/videos/{video_id}/captions/{language}", summary="Add or replace captions")
async def put_captions(
    video_id: uuid.UUID,
    language: Language,
    label: Label,
    request: Request,
    session: SessionDep,
    principal: Editor,
    storage: StorageDep,
) -> CaptionOut:
    """The request body is a WebVTT file (validated and normalised; 422 with the line
    that is wrong)."""
    video = await _edited(session, video_id, principal)
    data = await request.body()
    if len(data) > MAX_CAPTION_BYTES:
        raise CaptionsTooLarge(f"A caption file may hold at most {MAX_CAPTION_BYTES} bytes.")
    row = await service.add_caption(
        session, storage, video, language=language, label=label, data=data
    )
    audit(
        session,
        request,
        "video.captions",
        target_type="video",
        target_id=video.id,
        language=row.language,
    )
    await session.commit()
    return CaptionOut(language=row.language, label=row.label, cues=row.cues)


@router.delete(
    "/videos/{video_id}/captions/{language}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove captions",
)
async def delete_captions(
    video_id: uuid.UUID,
    language: Language,
    request: Request,
    session: SessionDep,
    principal: Editor,
    storage: StorageDep,
) -> Response:
    """Remove the track of ``language``."""
    video = await _edited(session, video_id, principal)
    tracks = {c.language.lower(): c for c in await service.tracks(session, video.id)}
    row: VideoCaption | None = tracks.get(language.lower())
    if row is None:
        raise NotFound("This video has no captions in that language.")
    await session.delete(row)
    audit(session, request, "video.captions.delete", target_type="video", target_id=video.id)
    await session.commit()
    await storage.blobs.delete(row.blob_key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
