"""Request and response models of the labs REST API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

MAX_CODE = 64_000
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
FileName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(max_length=MAX_CODE)]
Markdown = Annotated[str, StringConstraints(max_length=100_000)]
Points = Annotated[int, Field(ge=0, le=1000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileIn(Strict):
    """A template file: its name and starting text."""

    name: FileName
    text: Code = ""


class TestIn(Strict):
    """A hidden test: Python run after the learner's file (assertions)."""

    id: Id
    name: Title
    source: Code


class StepIn(Strict):
    """A checkpoint: what to do, which file its tests run, and its points."""

    id: Id
    title: Title
    body: Annotated[str, StringConstraints(max_length=20_000)] = ""
    file: FileName | None = None
    points: Points = 1
    tests: Annotated[list[TestIn], Field(min_length=1, max_length=20)]

    @model_validator(mode="after")
    def _unique(self) -> StepIn:
        ids = [t.id for t in self.tests]
        if len(set(ids)) != len(ids):
            raise ValueError("test ids must be unique within a step")
        return self


Steps = Annotated[list[StepIn], Field(max_length=50)]
Files = Annotated[list[FileIn], Field(min_length=1, max_length=20)]


def _check_parts(steps: list[StepIn] | None, files: list[FileIn] | None) -> None:
    if files is not None:
        names = [f.name for f in files]
        if len(set(names)) != len(names):
            raise ValueError("file names must be unique")
    if steps is not None:
        ids = [s.id for s in steps]
        if len(set(ids)) != len(ids):
            raise ValueError("step ids must be unique")


class LabIn(Strict):
    """A new lab."""

    title: Title
    instructions: Markdown = ""
    steps: Steps = []
    files: Files = [FileIn(name="main.py", text="")]

    @model_validator(mode="after")
    def _parts(self) -> LabIn:
        _check_parts(self.steps, self.files)
        return self


class LabPatch(Strict):
    """Changes to a lab (a null or missing field keeps it)."""

    title: Title | None = None
    instructions: Markdown | None = None
    steps: Steps | None = None
    files: Files | None = None

    @model_validator(mode="after")
    def _parts(self) -> LabPatch:
        _check_parts(self.steps, self.files)
        return self


class StepOut(BaseModel):
    """A step as its reader may see it (tests: instructors and TAs only)."""

    id: str
    title: str
    body: str
    html: str
    file: str | None
    points: int
    test_count: int
    tests: list[TestIn] | None = None
    done: bool = False


class LabOut(BaseModel):
    """A lab."""

    id: uuid.UUID
    course_id: uuid.UUID
    title: str
    instructions: str
    html: str
    status: str
    locked: bool
    shared_user_id: uuid.UUID | None
    broadcast: dict[str, Any] | None
    steps: list[StepOut]
    files: list[FileIn] = Field(description="The template (instructors and TAs) or its names.")
    points: int
    my_role: Literal["staff", "learner"] | None
    current_step: int | None = None
    started_at: datetime | None
    created_at: datetime


class LabPage(BaseModel):
    """A page of labs."""

    items: list[LabOut]
    next: str | None


class EditorOut(BaseModel):
    """How to open a workspace on the Yjs channel."""

    lab_id: uuid.UUID
    user_id: uuid.UUID
    document: str = Field(description="The Yjs document: labs/{lab_id}/workspaces/{user_id}.")
    token: str = Field(description="The editor token (10 minutes) for WS /yjs/{document}.")
    url: str = Field(description="The channel's path with the token.")
    files: list[str] = Field(description="File names; each is the root Y.Text 'file:{name}'.")
    writable: bool


class FeedOut(BaseModel):
    """How to open the lab's realtime feed."""

    token: str
    url: str


class StartOut(BaseModel):
    """A started lab."""

    lab: LabOut
    workspaces: int


class CheckIn(Strict):
    """Check a step for credit."""

    step_id: Id


class TestResult(BaseModel):
    """One hidden test's verdict (its source and message stay hidden)."""

    id: str
    name: str
    passed: bool


class CheckOut(BaseModel):
    """The server's result of a check: the one that counts."""

    step_id: str
    passed: bool
    status: str
    tests: list[TestResult]
    output: str
    duration_ms: int
    points: int
    completed: bool = Field(description="Whether this step is now completed (ever passed).")
    current_step: int


class HelpIn(Strict):
    """Ask for help."""

    step_id: Id | None = None
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class HelpOut(BaseModel):
    """A help request."""

    id: int
    lab_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    step_id: str | None
    note: str
    status: str
    taken_by: uuid.UUID | None
    created_at: datetime
    taken_at: datetime | None
    resolved_at: datetime | None
    position: int | None = Field(description="Place in the queue (1 = next) while open.")


class HelpPage(BaseModel):
    """A page of help requests."""

    items: list[HelpOut]
    next: str | None


class MyHelpOut(BaseModel):
    """My open help request, if any, and my place in the queue."""

    request: HelpOut | None
    position: int | None
    queue: list[int]


class LockIn(Strict):
    """Lock everyone read-only ("eyes on me") or unlock."""

    locked: bool


class ShareIn(Strict):
    """Share one learner's workspace with the group read-only (null: stop sharing)."""

    user_id: uuid.UUID | None = None


class BroadcastIn(Strict):
    """A hint (a notice) or a snippet (code a learner may insert) for every workspace."""

    kind: Literal["hint", "snippet"] = "hint"
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    file: FileName | None = None


class ActivityIn(Strict):
    """Something the learner did in the browser (a Pyodide run)."""

    kind: Literal["ran"] = "ran"
    ok: bool = True


class ActivityOut(BaseModel):
    """One timeline entry."""

    id: int
    user_id: uuid.UUID
    kind: str
    detail: dict[str, Any]
    at: datetime


class ActivityPage(BaseModel):
    """A page of the timeline."""

    items: list[ActivityOut]
    next: str | None


class TileOut(BaseModel):
    """A learner's workspace in the grid (the REST twin of the feed's tiles)."""

    user_id: uuid.UUID
    name: str
    document: str
    current_step: int
    steps_done: int
    last_check: dict[str, Any] | None
    last_activity_at: datetime
    progressed_at: datetime
    resets: int
    help: dict[str, Any] | None


class TilePage(BaseModel):
    """A page of the grid."""

    items: list[TileOut]
    next: str | None


class FinalFile(BaseModel):
    """A file of a workspace as it was kept."""

    name: str
    text: str


class FinalOut(BaseModel):
    """A learner's workspace as it was when the lab ended, kept with their grade."""

    lab_id: uuid.UUID
    user_id: uuid.UUID
    files: list[FinalFile] = Field(description="Every template file's text at the lab's end.")
    at: datetime = Field(description="When the lab ended (UTC).")
    steps_done: list[str] = Field(description="The ids of the steps passed on the server.")
    score: int = Field(description="The points of those steps (the gradebook's score).")
