"""Request and response bodies of the courses API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Code = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$"
    ),
]
Description = Annotated[str, Field(max_length=20_000)]
Status = Literal["draft", "published", "archived"]
CourseRoleName = Literal["instructor", "ta", "student", "observer"]


class CourseCreate(BaseModel):
    """A new course; the creator becomes its instructor."""

    model_config = ConfigDict(extra="forbid")
    code: Code
    title: Title
    description: Description = ""
    status: Status = "draft"


class CourseUpdate(BaseModel):
    """Change a course; omitted fields stay."""

    model_config = ConfigDict(extra="forbid")
    title: Title | None = None
    description: Description | None = None
    status: Status | None = None


class CourseOut(BaseModel):
    """A course as its members see it."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    code: str
    title: str
    description: str
    status: Status
    created_by: uuid.UUID
    created_at: datetime
    my_role: CourseRoleName | None = None


class CoursePage(BaseModel):
    """One page of courses."""

    items: list[CourseOut]
    total: int
    limit: int
    offset: int


class EnrollmentIn(BaseModel):
    """Enroll a user (by id or email) with a course role, or change their role."""

    model_config = ConfigDict(extra="forbid")
    user_id: uuid.UUID | None = None
    email: Annotated[EmailStr | None, Field(max_length=320)] = None
    role: CourseRoleName = "student"


class EnrollmentOut(BaseModel):
    """One member of a course's roster."""

    user_id: uuid.UUID
    name: str
    email: str | None
    role: CourseRoleName
    lti_role: str
    created_at: datetime
