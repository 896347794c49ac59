"""ORM models, one module per domain; importing this package registers them all."""

from persistence.models.accounts import ApiKey, RefreshToken, User
from persistence.models.audit import AuditEvent
from persistence.models.base import Base
from persistence.models.captions import CaptionLine
from persistence.models.courses import Course, Enrollment
from persistence.models.documents import (
    DocumentSnapshot,
    DocumentUpdate,
    DocumentVersion,
    QuarantinedUpdate,
)
from persistence.models.recordings import Recording, RecordingFile
from persistence.models.rooms import (
    Attendance,
    ChatMessage,
    Poll,
    PollVote,
    Room,
    RoomEvent,
    RoomMember,
)

__all__ = [
    "ApiKey",
    "Attendance",
    "AuditEvent",
    "Base",
    "CaptionLine",
    "ChatMessage",
    "Course",
    "DocumentSnapshot",
    "DocumentUpdate",
    "DocumentVersion",
    "Enrollment",
    "Poll",
    "PollVote",
    "QuarantinedUpdate",
    "Recording",
    "RecordingFile",
    "RefreshToken",
    "Room",
    "RoomEvent",
    "RoomMember",
    "User",
]
