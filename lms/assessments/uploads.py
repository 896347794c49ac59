"""Files a learner hands in for a file-upload question.

The files domain lets a learner start an upload only when a domain's rule takes it: this
module's ``check_upload`` is the rule for tus metadata ``attempt`` (the learner's own open
attempt, which has a file-upload question taking a file that large). An answer then names
the uploaded files by id; ``stored_files`` refuses any file that is not the learner's own
upload to the attempt's course and replaces the type and size the browser sent with the
stored ones, so the question's type and size limits are checked against the truth.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lms.assessments import banks
from lms.assessments.errors import AttemptClosed, InvalidResponse
from lms.errors import InvalidInput, NotFound
from lms.files import service as files
from lms.files.tus import Creation
from persistence.models import QuizAttempt
from persistence.models.base import utcnow

MAX_FILE_ID = 2**62
"""File ids are database bigints; a larger number names no file (and must not reach SQL)."""


async def check_upload(
    session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID, value: str, creation: Creation
) -> None:
    """The rule for a learner's upload naming an attempt: their own open attempt in this
    course, with a file-upload question that takes a file of the declared length."""
    try:
        attempt_id = uuid.UUID(value)
    except ValueError:
        raise InvalidInput("The upload's attempt is not an attempt id.") from None
    row = await session.get(QuizAttempt, attempt_id)
    if row is None or row.course_id != course_id or row.user_id != user_id:
        raise NotFound("No such attempt.")
    now = utcnow()
    if row.active_user_id is None or (row.deadline is not None and now >= row.deadline):
        raise AttemptClosed("This attempt takes no more answers.")
    given = [(uuid.UUID(q["question_id"]), int(q["version"])) for q in row.questions]
    definitions = await banks.versions(session, given)
    if not any(
        d.type == "file_upload" and creation.length <= d.max_bytes for d in definitions.values()
    ):
        raise InvalidInput("No question of this attempt takes a file of this size.")


async def stored_files(session: AsyncSession, target: QuizAttempt, data: Any) -> Any:
    """A file-upload answer with each file checked to be the learner's own upload to the
    course and described by its stored type and size; anything malformed is left for the
    question type to refuse."""
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        return data
    shown = []
    for ref in data["files"]:
        if not isinstance(ref, dict):
            return data
        row = None
        file_id = str(ref.get("file_id"))
        if file_id.isdigit() and 0 < int(file_id) < MAX_FILE_ID:
            try:
                row = await files.get_file(session, int(file_id))
            except NotFound:
                row = None
        if row is None or row.course_id != target.course_id or row.uploader_id != target.user_id:
            raise InvalidResponse(
                "A file answer may only name files you uploaded to this course.",
                file_id=file_id[:64],
            )
        shown.append(
            {**ref, "file_id": str(row.id), "content_type": row.content_type, "size": row.size}
        )
    return {**data, "files": shown}
