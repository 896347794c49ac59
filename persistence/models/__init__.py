"""ORM models, one module per domain; importing this package registers them all."""

from persistence.models.accounts import ApiKey, RefreshToken, User
from persistence.models.assessments import (
    AttemptAnswer,
    Question,
    QuestionBank,
    QuestionVersion,
    Quiz,
    QuizAccommodation,
    QuizAttempt,
)
from persistence.models.assignments import (
    Assignment,
    Extension,
    Grade,
    GroupMember,
    GroupSet,
    Rubric,
    StudentGroup,
    Submission,
    SubmissionComment,
)
from persistence.models.audit import AuditEvent
from persistence.models.base import Base
from persistence.models.captions import CaptionLine
from persistence.models.cohorts import (
    Cohort,
    CohortAnnouncement,
    CohortCodeAttempt,
    CohortFacilitator,
    CohortInvitation,
    CohortMember,
    CohortPacing,
    CohortSession,
    CohortTransfer,
)
from persistence.models.content import CourseModule, ItemProgress, ModuleItem, Page
from persistence.models.courses import Course, Enrollment
from persistence.models.documents import (
    DocumentSnapshot,
    DocumentUpdate,
    DocumentVersion,
    QuarantinedUpdate,
)
from persistence.models.files import File, Upload
from persistence.models.gradebook import (
    GradebookSettings,
    GradeChange,
    GradeColumn,
    GradeGroup,
    GradeOverride,
    GradeScore,
)
from persistence.models.jobs import ConsumedEvent, DomainEvent, Job, JobSchedule
from persistence.models.live_quizzes import LiveQuiz, LiveQuizAnswer
from persistence.models.notifications import (
    AccountToken,
    Notification,
    NotificationPreference,
    PushSubscription,
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
from persistence.models.video import Video, VideoCaption
from persistence.models.webhooks import WebhookDelivery, WebhookEndpoint
from persistence.models.workshops import (
    Workshop,
    WorkshopAttendance,
    WorkshopOccurrence,
    WorkshopRegistration,
)

__all__ = [
    "AccountToken",
    "ApiKey",
    "Assignment",
    "AttemptAnswer",
    "Attendance",
    "AuditEvent",
    "Base",
    "CaptionLine",
    "ChatMessage",
    "Cohort",
    "CohortAnnouncement",
    "CohortCodeAttempt",
    "CohortFacilitator",
    "CohortInvitation",
    "CohortMember",
    "CohortPacing",
    "CohortSession",
    "CohortTransfer",
    "ConsumedEvent",
    "Course",
    "CourseModule",
    "DocumentSnapshot",
    "DocumentUpdate",
    "DocumentVersion",
    "DomainEvent",
    "Enrollment",
    "Extension",
    "File",
    "Grade",
    "GradeChange",
    "GradeColumn",
    "GradeGroup",
    "GradeOverride",
    "GradeScore",
    "GradebookSettings",
    "GroupMember",
    "GroupSet",
    "ItemProgress",
    "Job",
    "JobSchedule",
    "LiveQuiz",
    "LiveQuizAnswer",
    "ModuleItem",
    "Notification",
    "NotificationPreference",
    "Page",
    "Poll",
    "PollVote",
    "PushSubscription",
    "QuarantinedUpdate",
    "Question",
    "QuestionBank",
    "QuestionVersion",
    "Quiz",
    "QuizAccommodation",
    "QuizAttempt",
    "Recording",
    "RecordingFile",
    "RefreshToken",
    "Room",
    "RoomEvent",
    "RoomMember",
    "Rubric",
    "StudentGroup",
    "Submission",
    "SubmissionComment",
    "Upload",
    "User",
    "Video",
    "VideoCaption",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Workshop",
    "WorkshopAttendance",
    "WorkshopOccurrence",
    "WorkshopRegistration",
]
