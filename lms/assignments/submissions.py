"""Handing in: every version kept, text rendered and sanitized like a content page, files
that must be the student's own uploads, the lock date (with the student's extension)
enforced, and a repeated ``Idempotency-Key`` answering the version it first made.

The route commits before it answers, so the version a student sees confirmed is durable.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from pathlib import PurePosixPath
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import emit
from lms.assignments import service
from lms.assignments.errors import AssignmentLocked, InvalidSubmission, NotOpenYet
from lms.assignments.events import SUBMITTED, Submitted
from lms.assignments.schemas import SubmissionIn, SubmissionOut, SubmittedFile
from lms.content import progress, render
from lms.errors import Conflict, InvalidInput, NotFound
from lms.files.tus import Creation
from persistence.models import Assignment, File, Submission
from persistence.models.base import utcnow

VERSION_TRIES = 5
"""Attempts at the next version number when a group's members hand in at the same moment."""


def extension_of(name: str) -> str:
    """A file name's extension, lower-case, without the dot ('' if none)."""
    return PurePosixPath(name).suffix.lower().lstrip(".")


EXTENSION_TYPES: Final = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "txt": "text/plain",
    "md": "text/plain",
}
"""What the bytes of a file with a known extension must be (the files domain sniffs them):
a renamed program is not a PDF. Other extensions are taken by name."""


def check_type(name: str, content_type: str) -> None:
    """Refuse a file whose bytes are not what its extension says (known extensions)."""
    wanted = EXTENSION_TYPES.get(extension_of(name))
    if wanted is not None and content_type.split(";")[0].strip() != wanted:
        raise InvalidSubmission(
            f"{name} is not a {extension_of(name)} file.", content_type=content_type
        )


def check_file(row: Assignment, name: str, size: int) -> None:
    """Refuse a file the assignment does not take (type, extension, size)."""
    if "file" not in row.submission_types:
        raise InvalidSubmission("This assignment does not take files.")
    if row.allowed_extensions and extension_of(name) not in row.allowed_extensions:
        allowed = ", ".join(row.allowed_extensions)
        raise InvalidSubmission(f"Files must be one of: {allowed}.", allowed=allowed)
    if size > row.max_file_bytes:
        raise InvalidSubmission(
            f"Files may be at most {row.max_file_bytes} bytes.", max_bytes=row.max_file_bytes
        )


def check_window(
    row: Assignment, due_lock: tuple[datetime | None, datetime | None], now: datetime
) -> None:
    """Refuse a submission before the assignment opens or at/after the student's lock."""
    if row.available_from is not None and now < row.available_from:
        raise NotOpenYet(row.available_from)
    lock_at = due_lock[1]
    if lock_at is not None and now >= lock_at:
        raise AssignmentLocked(lock_at)


async def check_upload(
    session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID, value: str, creation: Creation
) -> None:
    """The files domain's rule for a learner's upload naming an assignment (tus metadata
    ``assignment``): a published file assignment of the course, open to this student now,
    and a file it takes."""
    try:
        assignment_id = uuid.UUID(value)
    except ValueError:
        raise InvalidInput("The upload's assignment is not an assignment id.") from None
    row = await session.get(Assignment, assignment_id)
    if row is None or row.course_id != course_id or not row.published:
        raise NotFound("No such assignment.")
    if not await service.is_student(session, course_id, user_id):
        raise NotFound("No such assignment.")
    check_window(row, await service.dates_for(session, row, user_id), utcnow())
    name = creation.metadata.get("filename") or creation.metadata.get("name") or ""
    check_file(row, name, creation.length)


async def history(
    session: AsyncSession, assignment_id: uuid.UUID, owner_id: uuid.UUID
) -> list[Submission]:
    """Every version handed in by a student (or their group), newest first."""
    query = (
        select(Submission)
        .where(Submission.assignment_id == assignment_id, Submission.owner_id == owner_id)
        .order_by(Submission.version.desc())
    )
    return list((await session.scalars(query)).all())


async def _serialize(session: AsyncSession, assignment_id: uuid.UUID, owner_id: uuid.UUID) -> None:
    """One hand-in at a time per student or group: on PostgreSQL a transaction advisory lock
    (SQLite's writers are serialized already), so the next version number and a repeated
    Idempotency-Key are decided after the competing request committed."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"submission:{assignment_id}:{owner_id}".encode()).digest()
    await session.execute(
        select(func.pg_advisory_xact_lock(int.from_bytes(digest[:8], signed=True)))
    )


async def _replay(
    session: AsyncSession, assignment_id: uuid.UUID, owner_id: uuid.UUID, key: str
) -> Submission | None:
    query = select(Submission).where(
        Submission.assignment_id == assignment_id,
        Submission.owner_id == owner_id,
        Submission.idempotency_key == key,
    )
    return (await session.scalars(query)).one_or_none()


async def _files(
    session: AsyncSession, row: Assignment, user_id: uuid.UUID, ids: list[int]
) -> None:
    if len(ids) != len(set(ids)):
        raise InvalidSubmission("A file is given twice.")
    for file_id in ids:
        found = await session.get(File, file_id)
        if found is None or found.course_id != row.course_id or found.uploader_id != user_id:
            raise InvalidSubmission(f"File {file_id} is not one of your uploads.", file_id=file_id)
        check_file(row, found.name, found.size)
        if row.allowed_extensions:
            check_type(found.name, found.content_type)


async def submit(
    session: AsyncSession,
    row: Assignment,
    user_id: uuid.UUID,
    body: SubmissionIn,
    *,
    idempotency_key: str | None,
    now: datetime,
) -> tuple[Submission, bool]:
    """Hand in a new version; (the submission, whether it is a replay of the same key)."""
    group_id, _ = await service.group_of(session, row, user_id)
    owner_id = group_id or user_id
    await _serialize(session, row.id, owner_id)
    if idempotency_key is not None:
        found = await _replay(session, row.id, owner_id, idempotency_key)
        if found is not None:
            return found, True
    check_window(row, await service.dates_for(session, row, user_id), now)
    text = body.text if body.text else None
    if text is None and not body.file_ids:
        raise InvalidSubmission("Hand in some text or at least one file.")
    html = None
    if text is not None:
        if "text" not in row.submission_types:
            raise InvalidSubmission("This assignment does not take text.")
        if len(text) > row.max_text_chars:
            raise InvalidSubmission(
                f"The text may be at most {row.max_text_chars} characters.",
                max_chars=row.max_text_chars,
            )
        html = render.render(text)
    await _files(session, row, user_id, body.file_ids)
    made: Submission | None = None
    for _ in range(VERSION_TRIES):
        version = await session.scalar(
            select(func.coalesce(func.max(Submission.version), 0)).where(
                Submission.assignment_id == row.id, Submission.owner_id == owner_id
            )
        )
        made = Submission(
            assignment_id=row.id,
            owner_id=owner_id,
            group_id=group_id,
            user_id=user_id,
            version=(version or 0) + 1,
            body_markdown=text,
            body_html=html,
            file_ids=list(body.file_ids),
            idempotency_key=idempotency_key,
            submitted_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(made)
            break
        except IntegrityError:
            # Another request of the same student or group committed first: the same key
            # is a replay; another key took this version number, so count again.
            if idempotency_key is not None:
                found = await _replay(session, row.id, owner_id, idempotency_key)
                if found is not None:
                    return found, True
            made = None
    if made is None:
        raise Conflict("Other submissions were handed in at the same moment; try again.")
    _, members = await service.group_of(session, row, user_id)
    for member in members:
        await progress.mark_submitted(session, "assignment", row.id, member, now)
    payload = Submitted(
        submission_id=made.id,
        assignment_id=row.id,
        course_id=row.course_id,
        version=made.version,
        submitted_at=now,
    )
    await emit(session, SUBMITTED, payload, aggregate_id=row.id)
    return made, False


async def owned(session: AsyncSession, submission_id: uuid.UUID) -> tuple[Submission, Assignment]:
    """A submission with its assignment, or 404."""
    found = await session.get(Submission, submission_id)
    if found is None:
        raise NotFound("No such submission.")
    return found, await service.assignment(session, found.assignment_id)


async def out(
    session: AsyncSession, rows: list[Submission], due_at: datetime | None
) -> list[SubmissionOut]:
    """Submissions as bodies (no submitter identity), with their files."""
    ids = sorted({i for r in rows for i in r.file_ids})
    files: dict[int, File] = {}
    if ids:
        found = await session.scalars(select(File).where(File.id.in_(ids)))
        files = {f.id: f for f in found.all()}
    return [
        SubmissionOut(
            id=r.id,
            assignment_id=r.assignment_id,
            version=r.version,
            text=r.body_markdown,
            html=r.body_html,
            files=[
                SubmittedFile(id=f.id, name=f.name, size=f.size, content_type=f.content_type)
                for f in (files.get(i) for i in r.file_ids)
                if f is not None
            ],
            submitted_at=r.submitted_at,
            late=due_at is not None and r.submitted_at > due_at,
        )
        for r in rows
    ]
