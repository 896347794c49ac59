"""Questions a person grades: essays (with word limits) and file uploads (allowed types,
count and size).

Grading them automatically only records what was handed in and marks the result
``manual``; the grading view scores it later. A file response names files already stored by
the upload service: its type and size are filled in by the server from that service's
record (the sniffed type), never taken from the browser.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from lms.assessments.errors import InvalidResponse
from lms.assessments.questions.base import Definition, Response, Text, View
from lms.assessments.questions.kinds import QuestionType, untranslated
from lms.assessments.questions.results import GradeResult, PartResult, result
from lms.assessments.questions.shuffle import Presentation

MAX_ESSAY = 100_000
"""Characters of an essay, whatever its word limit."""
MAX_WORDS = 20_000
MAX_FILES = 10
MAX_FILE_BYTES = 1 << 30

MimeType = Annotated[
    str,
    StringConstraints(max_length=127, pattern=r"^[a-z0-9][a-z0-9.+-]*/(\*|[a-z0-9][a-z0-9.+-]*)$"),
]
"""A media type such as ``application/pdf``, or a family such as ``image/*``."""

_WORD = re.compile(r"\w+(?:['\u2019-]\w+)*")


def count_words(text: str) -> int:
    """Words in ``text``: runs of letters and digits, an inner apostrophe or hyphen kept."""
    return len(_WORD.findall(text))


class Essay(Definition):
    """A question answered in prose; ``min_words``/``max_words`` bound the answer."""

    type: Literal["essay"] = "essay"
    min_words: Annotated[int, Field(ge=0, le=MAX_WORDS)] = 0
    max_words: Annotated[int, Field(ge=1, le=MAX_WORDS)] | None = None
    grading_notes: Text | None = None
    """For graders only (what a good answer holds)."""

    @model_validator(mode="after")
    def _limits_in_order(self) -> Essay:
        if self.max_words is not None and self.max_words < self.min_words:
            raise ValueError("max_words is below min_words")
        return self


class EssayView(View):
    """An essay question as the student sees it (its word limits included)."""

    type: Literal["essay"] = "essay"
    min_words: int
    max_words: int | None


class EssayResponse(Response):
    """The essay text."""

    text: Annotated[str, StringConstraints(max_length=MAX_ESSAY)] = ""


class FileUpload(Definition):
    """A question answered by uploading files of allowed types."""

    type: Literal["file_upload"] = "file_upload"
    allowed_types: Annotated[list[MimeType], Field(min_length=1, max_length=50)]
    max_files: Annotated[int, Field(ge=1, le=MAX_FILES)] = 1
    max_bytes: Annotated[int, Field(ge=1, le=MAX_FILE_BYTES)] = 50 << 20
    grading_notes: Text | None = None


class FileUploadView(View):
    """A file-upload question as the student sees it (what it accepts)."""

    type: Literal["file_upload"] = "file_upload"
    allowed_types: list[str]
    max_files: int
    max_bytes: int


class FileRef(BaseModel):
    """A file of the upload service: its id, and its sniffed type and size from there."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    file_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    content_type: Annotated[str, StringConstraints(max_length=127)]
    size: Annotated[int, Field(ge=0)]


class FileUploadResponse(Response):
    """The files handed in."""

    files: Annotated[list[FileRef], Field(max_length=MAX_FILES)] = []


def type_allowed(allowed: list[str], content_type: str) -> bool:
    """Whether ``content_type`` (parameters ignored) is one of ``allowed`` or in a family."""
    kind = content_type.split(";", 1)[0].strip().lower()
    family = kind.split("/", 1)[0] + "/*"
    return kind in allowed or family in allowed


def _check_essay(definition: Essay, response: EssayResponse) -> None:
    words = count_words(response.text)
    if definition.max_words is not None and words > definition.max_words:
        raise InvalidResponse(
            f"the essay has {words} words; at most {definition.max_words} are allowed",
            words=words,
            max_words=definition.max_words,
        )


def _check_files(definition: FileUpload, response: FileUploadResponse) -> None:
    if len(response.files) > definition.max_files:
        raise InvalidResponse(f"at most {definition.max_files} files are allowed")
    if len({ref.file_id for ref in response.files}) != len(response.files):
        raise InvalidResponse("a file is handed in twice")
    for ref in response.files:
        if not type_allowed(definition.allowed_types, ref.content_type):
            raise InvalidResponse(f"files of type {ref.content_type} are not accepted here")
        if ref.size > definition.max_bytes:
            raise InvalidResponse(f"a file is larger than {definition.max_bytes} bytes")


def grade_essay(definition: Essay, response: EssayResponse) -> GradeResult:
    """Zero, pending a grader; notes the word count and a limit missed."""
    words = count_words(response.text)
    notes = f"{words} words"
    if words < definition.min_words:
        notes += f"; fewer than the {definition.min_words} asked"
    if definition.max_words is not None and words > definition.max_words:
        notes += f"; more than the {definition.max_words} allowed"
    part = PartResult(part="text", credit=0.0, feedback=notes)
    return result(definition.points, 0.0, [part], status="manual")


def grade_files(definition: FileUpload, response: FileUploadResponse) -> GradeResult:
    """Zero, pending a grader; one part per file."""
    parts = [PartResult(part=ref.file_id, credit=0.0) for ref in response.files]
    return result(definition.points, 0.0, parts, status="manual")


def _present_essay(definition: Essay, _seed: str) -> tuple[View, Presentation]:
    view = EssayView(
        prompt=definition.prompt,
        points=definition.points,
        min_words=definition.min_words,
        max_words=definition.max_words,
    )
    return view, Presentation()


def _present_files(definition: FileUpload, _seed: str) -> tuple[View, Presentation]:
    view = FileUploadView(
        prompt=definition.prompt,
        points=definition.points,
        allowed_types=definition.allowed_types,
        max_files=definition.max_files,
        max_bytes=definition.max_bytes,
    )
    return view, Presentation()


ESSAY = QuestionType(
    name="essay",
    definition=Essay,
    response=EssayResponse,
    present=_present_essay,
    grade=grade_essay,
    translate=untranslated,
    check=_check_essay,
)
FILE_UPLOAD = QuestionType(
    name="file_upload",
    definition=FileUpload,
    response=FileUploadResponse,
    present=_present_files,
    grade=grade_files,
    translate=untranslated,
    check=_check_files,
)
