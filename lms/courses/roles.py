"""Course roles and what each may do in a course, declared once (Canvas-style enrollments)."""

from __future__ import annotations

from enum import StrEnum


class CourseRole(StrEnum):
    """A person's role in one course."""

    INSTRUCTOR = "instructor"
    TA = "ta"
    STUDENT = "student"
    OBSERVER = "observer"


class CourseAction(StrEnum):
    """Everything a course route can require of the caller's course role."""

    VIEW = "view"
    EDIT = "edit"
    VIEW_ROSTER = "view_roster"
    MANAGE_ENROLLMENTS = "manage_enrollments"
    HOST_ROOMS = "host_rooms"
    VIEW_DRAFTS = "view_drafts"  # unpublished modules, items and pages; page editors read-only
    VIEW_PROGRESS = "view_progress"  # every learner's progress in the course
    DOWNLOAD_ORIGINALS = "download_originals"  # a video's uploaded original
    GRADE = "grade"  # read every learner's submissions, grade them, comment on them


COURSE_ROLE_ACTIONS: dict[CourseRole, frozenset[CourseAction]] = {
    CourseRole.INSTRUCTOR: frozenset(CourseAction),
    CourseRole.TA: frozenset(
        {
            CourseAction.VIEW,
            CourseAction.VIEW_ROSTER,
            CourseAction.HOST_ROOMS,
            CourseAction.VIEW_DRAFTS,
            CourseAction.VIEW_PROGRESS,
            CourseAction.DOWNLOAD_ORIGINALS,
            CourseAction.GRADE,
        }
    ),
    CourseRole.STUDENT: frozenset({CourseAction.VIEW}),
    CourseRole.OBSERVER: frozenset({CourseAction.VIEW}),
}

# IMS LTI 1.3 context role URIs, for integrations (Names and Role Provisioning Services).
LTI_ROLES: dict[CourseRole, str] = {
    CourseRole.INSTRUCTOR: "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
    CourseRole.TA: "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
    CourseRole.STUDENT: "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
    CourseRole.OBSERVER: "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor",
}


def may(role: CourseRole | None, action: CourseAction) -> bool:
    """Whether a course role allows ``action`` (None: not enrolled)."""
    return role is not None and action in COURSE_ROLE_ACTIONS[role]
