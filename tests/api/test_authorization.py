"""Every route x every role: who gets in, who gets 401 and who gets 403.

The table below is written by hand from the product rules, not derived from the code,
and must list every operation the node serves (a new route without a row fails). Revoked
credentials (logout everywhere, a password change, a deactivation) get 401 on every row
that needs a caller, and their join tokens open no WebSocket channel (4001).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from kits.nodes import PASSWORD, Node

PUBLIC = "public"
SIGNED_IN = frozenset({"student", "instructor", "admin", "key:profile"})
STAFF_TOOLS = frozenset({"instructor", "admin"})
ADMIN = frozenset({"admin"})
ROOM_USERS = frozenset({"student", "instructor", "admin"})
EXPECTED: dict[tuple[str, str], str | frozenset[str]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("POST", "/api/v1/auth/register"): PUBLIC,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("POST", "/api/v1/auth/refresh"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): SIGNED_IN,
    ("POST", "/api/v1/auth/verify-email"): PUBLIC,
    ("POST", "/api/v1/auth/password-reset"): PUBLIC,
    ("POST", "/api/v1/auth/password-reset/confirm"): PUBLIC,
    ("POST", "/api/v1/users/me/email-verification"): SIGNED_IN - {"key:profile"},
    ("GET", "/api/v1/users/me"): SIGNED_IN,
    ("PATCH", "/api/v1/users/me"): SIGNED_IN - {"key:profile"},
    ("POST", "/api/v1/users/me/password"): SIGNED_IN - {"key:profile"},
    ("GET", "/api/v1/users/me/export"): SIGNED_IN,
    ("DELETE", "/api/v1/users/me"): SIGNED_IN - {"key:profile"},
    ("GET", "/api/v1/users"): ADMIN,
    ("GET", "/api/v1/users/{user_id}"): ADMIN,
    ("PATCH", "/api/v1/users/{user_id}"): ADMIN,
    ("GET", "/api/v1/api-keys"): STAFF_TOOLS,
    ("POST", "/api/v1/api-keys"): STAFF_TOOLS,
    ("DELETE", "/api/v1/api-keys/{key_id}"): STAFF_TOOLS,
    ("GET", "/api/v1/audit-events"): ADMIN,
    ("GET", "/api/v1/admin/document-quarantine"): ADMIN,
    ("GET", "/api/v1/admin/document-quarantine/{entry_id}"): ADMIN,
    ("DELETE", "/api/v1/admin/document-quarantine/{entry_id}"): ADMIN,
    ("GET", "/api/v1/admin/jobs"): ADMIN,
    ("GET", "/api/v1/admin/jobs/{job_id}"): ADMIN,
    ("POST", "/api/v1/admin/jobs/{job_id}/retry"): ADMIN,
    ("POST", "/api/v1/admin/jobs/{job_id}/cancel"): ADMIN,
    ("DELETE", "/api/v1/admin/jobs/{job_id}"): ADMIN,
    ("GET", "/api/v1/admin/webhooks"): ADMIN,
    ("POST", "/api/v1/admin/webhooks"): ADMIN,
    ("GET", "/api/v1/admin/webhooks/event-types"): ADMIN,
    ("GET", "/api/v1/admin/webhooks/{endpoint_id}"): ADMIN,
    ("PATCH", "/api/v1/admin/webhooks/{endpoint_id}"): ADMIN,
    ("DELETE", "/api/v1/admin/webhooks/{endpoint_id}"): ADMIN,
    ("POST", "/api/v1/admin/webhooks/{endpoint_id}/rotate-secret"): ADMIN,
    ("POST", "/api/v1/admin/webhooks/{endpoint_id}/disable"): ADMIN,
    ("POST", "/api/v1/admin/webhooks/{endpoint_id}/enable"): ADMIN,
    ("POST", "/api/v1/admin/webhooks/{endpoint_id}/test"): ADMIN,
    ("GET", "/api/v1/admin/webhooks/{endpoint_id}/deliveries"): ADMIN,
    ("GET", "/api/v1/admin/webhooks/{endpoint_id}/deliveries/{delivery_id}"): ADMIN,
    ("POST", "/api/v1/admin/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver"): ADMIN,
    # Notifications: everyone's own inbox; changes need profile:write (not a read-only key).
    ("GET", "/api/v1/notifications"): SIGNED_IN,
    ("GET", "/api/v1/notifications/unread-count"): SIGNED_IN,
    ("POST", "/api/v1/notifications/{notification_id}/read"): SIGNED_IN - {"key:profile"},
    ("POST", "/api/v1/notifications/read-all"): SIGNED_IN - {"key:profile"},
    ("GET", "/api/v1/notifications/preferences"): SIGNED_IN,
    ("PUT", "/api/v1/notifications/preferences"): SIGNED_IN - {"key:profile"},
    ("GET", "/api/v1/notifications/push/key"): SIGNED_IN,
    ("POST", "/api/v1/notifications/push/subscriptions"): SIGNED_IN - {"key:profile"},
    ("DELETE", "/api/v1/notifications/push/subscriptions/{subscription_id}"): SIGNED_IN
    - {"key:profile"},
    ("POST", "/api/v1/notifications/channel-token"): SIGNED_IN,
    # Rooms: the platform permission admits; room roles decide inside (404/403 there).
    ("POST", "/api/v1/rooms"): STAFF_TOOLS,
    ("GET", "/api/v1/rooms"): ROOM_USERS,
    ("GET", "/api/v1/rooms/{room_id}"): ROOM_USERS,
    ("PATCH", "/api/v1/rooms/{room_id}"): ROOM_USERS,
    ("POST", "/api/v1/rooms/{room_id}/end"): ROOM_USERS,
    ("GET", "/api/v1/rooms/{room_id}/members"): ROOM_USERS,
    ("POST", "/api/v1/rooms/{room_id}/members"): ROOM_USERS,
    ("DELETE", "/api/v1/rooms/{room_id}/members/{user_id}"): ROOM_USERS,
    ("POST", "/api/v1/rooms/{room_id}/join"): ROOM_USERS,
    ("GET", "/api/v1/rooms/{room_id}/attendance"): ROOM_USERS,
    ("GET", "/api/v1/rooms/{room_id}/chat"): ROOM_USERS,
    ("GET", "/api/v1/rooms/{room_id}/recordings"): ROOM_USERS,
    ("POST", "/api/v1/rooms/{room_id}/recordings"): ROOM_USERS,
    ("POST", "/api/v1/rooms/{room_id}/recordings/{recording_id}/stop"): ROOM_USERS,
    ("GET", "/api/v1/rooms/{room_id}/recordings/{recording_id}/files/{file_id}"): ROOM_USERS,
    ("GET", "/api/v1/rooms/{room_id}/recordings/{recording_id}/captions.vtt"): ROOM_USERS,
    ("POST", "/api/v1/rooms/{room_id}/whip"): ROOM_USERS,
    ("DELETE", "/api/v1/rooms/{room_id}/whip/{session_id}"): ROOM_USERS,
    ("PATCH", "/api/v1/rooms/{room_id}/whip/{session_id}"): ROOM_USERS,
    # Courses: creating needs the platform permission; course roles decide the rest.
    ("POST", "/api/v1/courses"): STAFF_TOOLS,
    ("GET", "/api/v1/courses"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}"): ROOM_USERS,
    ("PATCH", "/api/v1/courses/{course_id}"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}/enrollments"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/enrollments"): ROOM_USERS,
    ("DELETE", "/api/v1/courses/{course_id}/enrollments/{user_id}"): ROOM_USERS,
    # Content: platform members reach the routes; the course role decides (tests/content).
    ("GET", "/api/v1/courses/{course_id}/content"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}/home"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/modules"): ROOM_USERS,
    ("PUT", "/api/v1/courses/{course_id}/modules/order"): ROOM_USERS,
    ("PATCH", "/api/v1/modules/{module_id}"): ROOM_USERS,
    ("DELETE", "/api/v1/modules/{module_id}"): ROOM_USERS,
    ("POST", "/api/v1/modules/{module_id}/items"): ROOM_USERS,
    ("PATCH", "/api/v1/items/{item_id}"): ROOM_USERS,
    ("DELETE", "/api/v1/items/{item_id}"): ROOM_USERS,
    ("POST", "/api/v1/items/{item_id}/move"): ROOM_USERS,
    ("POST", "/api/v1/items/{item_id}/progress"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}/progress"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/copy"): STAFF_TOOLS,
    ("GET", "/api/v1/courses/{course_id}/pages"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/pages"): ROOM_USERS,
    ("GET", "/api/v1/pages/{page_id}"): ROOM_USERS,
    ("PATCH", "/api/v1/pages/{page_id}"): ROOM_USERS,
    ("DELETE", "/api/v1/pages/{page_id}"): ROOM_USERS,
    ("POST", "/api/v1/pages/{page_id}/editor"): ROOM_USERS,
    ("POST", "/api/v1/pages/{page_id}/publish"): ROOM_USERS,
    ("DELETE", "/api/v1/pages/{page_id}/publish"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}/videos"): ROOM_USERS,
    ("POST", "/api/v1/files/{file_id}/video"): ROOM_USERS,
    ("POST", "/api/v1/rooms/{room_id}/recordings/{recording_id}/video"): ROOM_USERS,
    ("GET", "/api/v1/videos/{video_id}"): ROOM_USERS,
    ("POST", "/api/v1/videos/{video_id}/retry"): ROOM_USERS,
    ("DELETE", "/api/v1/videos/{video_id}"): ROOM_USERS,
    ("PUT", "/api/v1/videos/{video_id}/captions/{language}"): ROOM_USERS,
    ("DELETE", "/api/v1/videos/{video_id}/captions/{language}"): ROOM_USERS,
    # Quizzes: platform members reach the routes; the course role decides (tests/assessments).
    ("GET", "/api/v1/courses/{course_id}/question-banks"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/question-banks"): ROOM_USERS,
    ("PATCH", "/api/v1/question-banks/{bank_id}"): ROOM_USERS,
    ("GET", "/api/v1/question-banks/{bank_id}/questions"): ROOM_USERS,
    ("POST", "/api/v1/question-banks/{bank_id}/questions"): ROOM_USERS,
    ("GET", "/api/v1/questions/{question_id}"): ROOM_USERS,
    ("PUT", "/api/v1/questions/{question_id}"): ROOM_USERS,
    ("DELETE", "/api/v1/questions/{question_id}"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/question-preview"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}/quizzes"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/quizzes"): ROOM_USERS,
    ("GET", "/api/v1/quizzes/{quiz_id}"): ROOM_USERS,
    ("PATCH", "/api/v1/quizzes/{quiz_id}"): ROOM_USERS,
    ("DELETE", "/api/v1/quizzes/{quiz_id}"): ROOM_USERS,
    ("POST", "/api/v1/quizzes/{quiz_id}/release"): ROOM_USERS,
    ("PUT", "/api/v1/quizzes/{quiz_id}/accommodations/{user_id}"): ROOM_USERS,
    ("GET", "/api/v1/quizzes/{quiz_id}/accommodations"): ROOM_USERS,
    ("GET", "/api/v1/quizzes/{quiz_id}/me"): ROOM_USERS,
    ("GET", "/api/v1/quizzes/{quiz_id}/attempts"): ROOM_USERS,
    ("POST", "/api/v1/quizzes/{quiz_id}/attempts"): ROOM_USERS,
    ("GET", "/api/v1/quizzes/{quiz_id}/grading"): ROOM_USERS,
    ("GET", "/api/v1/quizzes/{quiz_id}/statistics"): ROOM_USERS,
    ("GET", "/api/v1/attempts/{attempt_id}"): ROOM_USERS,
    ("PUT", "/api/v1/attempts/{attempt_id}/answers"): ROOM_USERS,
    ("POST", "/api/v1/attempts/{attempt_id}/submit"): ROOM_USERS,
    ("POST", "/api/v1/attempts/{attempt_id}/questions/{question_id}/run"): ROOM_USERS,
    ("POST", "/api/v1/attempts/{attempt_id}/questions/{question_id}/grade"): ROOM_USERS,
    # Files: the platform permission admits; course roles decide (EDIT uploads and deletes).
    ("OPTIONS", "/api/v1/courses/{course_id}/uploads"): PUBLIC,
    ("POST", "/api/v1/courses/{course_id}/uploads"): ROOM_USERS,
    ("HEAD", "/api/v1/courses/{course_id}/uploads/{upload_id}"): ROOM_USERS,
    ("PATCH", "/api/v1/courses/{course_id}/uploads/{upload_id}"): ROOM_USERS,
    ("DELETE", "/api/v1/courses/{course_id}/uploads/{upload_id}"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}/files"): ROOM_USERS,
    ("GET", "/api/v1/files/{file_id}"): ROOM_USERS,
    ("DELETE", "/api/v1/files/{file_id}"): ROOM_USERS,
    ("POST", "/api/v1/files/{file_id}/link"): ROOM_USERS,
    # Assignments: platform members reach the routes; course roles decide (tests/assignments).
    ("GET", "/api/v1/courses/{course_id}/assignments"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/assignments"): ROOM_USERS,
    ("GET", "/api/v1/assignments/{assignment_id}"): ROOM_USERS,
    ("PATCH", "/api/v1/assignments/{assignment_id}"): ROOM_USERS,
    ("DELETE", "/api/v1/assignments/{assignment_id}"): ROOM_USERS,
    ("GET", "/api/v1/assignments/{assignment_id}/extensions"): ROOM_USERS,
    ("PUT", "/api/v1/assignments/{assignment_id}/extensions"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}/group-sets"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/group-sets"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}/rubrics"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/rubrics"): ROOM_USERS,
    ("PUT", "/api/v1/rubrics/{rubric_id}"): ROOM_USERS,
    ("POST", "/api/v1/assignments/{assignment_id}/submissions"): ROOM_USERS,
    ("GET", "/api/v1/assignments/{assignment_id}/submissions/mine"): ROOM_USERS,
    ("POST", "/api/v1/submissions/{submission_id}/files/{file_id}/link"): ROOM_USERS,
    ("GET", "/api/v1/assignments/{assignment_id}/grading"): ROOM_USERS,
    ("GET", "/api/v1/assignments/{assignment_id}/grading/{key}"): ROOM_USERS,
    ("PUT", "/api/v1/assignments/{assignment_id}/grading/{key}"): ROOM_USERS,
    ("POST", "/api/v1/submissions/{submission_id}/comments"): ROOM_USERS,
    ("POST", "/api/v1/assignments/{assignment_id}/reveal"): ROOM_USERS,
    ("POST", "/api/v1/assignments/{assignment_id}/post"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}/gradebook"): ROOM_USERS,
    ("PATCH", "/api/v1/courses/{course_id}/gradebook/settings"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/gradebook/groups"): ROOM_USERS,
    ("PATCH", "/api/v1/courses/{course_id}/gradebook/groups/{group_id}"): ROOM_USERS,
    ("DELETE", "/api/v1/courses/{course_id}/gradebook/groups/{group_id}"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/gradebook/columns"): ROOM_USERS,
    ("PATCH", "/api/v1/courses/{course_id}/gradebook/columns/{column_id}"): ROOM_USERS,
    ("DELETE", "/api/v1/courses/{course_id}/gradebook/columns/{column_id}"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}/gradebook/grid"): ROOM_USERS,
    ("PUT", "/api/v1/courses/{course_id}/gradebook/columns/{column_id}/grades/{user_id}"): (
        ROOM_USERS
    ),
    ("POST", "/api/v1/courses/{course_id}/gradebook/columns/{column_id}/post"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/gradebook/columns/{column_id}/hide"): ROOM_USERS,
    ("PUT", "/api/v1/courses/{course_id}/gradebook/overrides/{user_id}"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}/gradebook/history"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}/gradebook/mine"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}/gradebook/export.csv"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/gradebook/import/preview"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/gradebook/import/apply"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}/gradebook/lineitems"): ROOM_USERS,
    # Documents: room members read, room hosts write (decided inside, like rooms).
    ("GET", "/api/v1/documents/rooms/{room_id}/{kind}"): ROOM_USERS,
    ("DELETE", "/api/v1/documents/rooms/{room_id}/{kind}"): ROOM_USERS,
    ("GET", "/api/v1/documents/rooms/{room_id}/{kind}/versions"): ROOM_USERS,
    ("POST", "/api/v1/documents/rooms/{room_id}/{kind}/versions"): ROOM_USERS,
    ("GET", "/api/v1/documents/rooms/{room_id}/{kind}/versions/{version_id}"): ROOM_USERS,
    ("POST", "/api/v1/documents/rooms/{room_id}/{kind}/versions/{version_id}/restore"): ROOM_USERS,
    # Labs: platform members reach the routes; course roles decide inside (tests/labs).
    ("GET", "/api/v1/courses/{course_id}/labs"): ROOM_USERS,
    ("POST", "/api/v1/courses/{course_id}/labs"): ROOM_USERS,
    ("GET", "/api/v1/labs/{lab_id}"): ROOM_USERS,
    ("PATCH", "/api/v1/labs/{lab_id}"): ROOM_USERS,
    ("DELETE", "/api/v1/labs/{lab_id}"): ROOM_USERS,
    ("GET", "/api/v1/labs/{lab_id}/workspaces/{user_id}/final"): ROOM_USERS,
    ("POST", "/api/v1/labs/{lab_id}/start"): ROOM_USERS,
    ("POST", "/api/v1/labs/{lab_id}/end"): ROOM_USERS,
    ("POST", "/api/v1/labs/{lab_id}/workspace"): ROOM_USERS,
    ("POST", "/api/v1/labs/{lab_id}/workspaces/{user_id}/editor"): ROOM_USERS,
    ("POST", "/api/v1/labs/{lab_id}/feed"): ROOM_USERS,
    ("GET", "/api/v1/labs/{lab_id}/live"): ROOM_USERS,
    ("GET", "/api/v1/labs/{lab_id}/workspaces"): ROOM_USERS,
    ("POST", "/api/v1/labs/{lab_id}/workspaces/{user_id}/reset"): ROOM_USERS,
    ("POST", "/api/v1/labs/{lab_id}/lock"): ROOM_USERS,
    ("POST", "/api/v1/labs/{lab_id}/share"): ROOM_USERS,
    ("POST", "/api/v1/labs/{lab_id}/broadcast"): ROOM_USERS,
    ("POST", "/api/v1/labs/{lab_id}/check"): ROOM_USERS,
    ("POST", "/api/v1/labs/{lab_id}/activity"): ROOM_USERS,
    ("GET", "/api/v1/labs/{lab_id}/timeline"): ROOM_USERS,
    ("POST", "/api/v1/labs/{lab_id}/help"): ROOM_USERS,
    ("GET", "/api/v1/labs/{lab_id}/help"): ROOM_USERS,
    ("GET", "/api/v1/labs/{lab_id}/help/mine"): ROOM_USERS,
    ("POST", "/api/v1/labs/{lab_id}/help/next"): ROOM_USERS,
    ("POST", "/api/v1/labs/{lab_id}/help/{request_id}/take"): ROOM_USERS,
    ("POST", "/api/v1/labs/{lab_id}/help/{request_id}/resolve"): ROOM_USERS,
    # Workshops: instructors and admins schedule; everyone signed in registers; organiser
    # and owner checks are inside (tests/workshops).
    ("POST", "/api/v1/workshops"): STAFF_TOOLS,
    ("GET", "/api/v1/workshops"): ROOM_USERS,
    ("GET", "/api/v1/workshops/{workshop_id}"): ROOM_USERS,
    ("POST", "/api/v1/workshops/{workshop_id}/cancel"): ROOM_USERS,
    ("POST", "/api/v1/workshops/{workshop_id}/registrations"): ROOM_USERS,
    ("GET", "/api/v1/workshops/{workshop_id}/registrations"): ROOM_USERS,
    ("POST", "/api/v1/workshop-registrations/{registration_id}/confirm"): ROOM_USERS,
    ("POST", "/api/v1/workshop-registrations/{registration_id}/cancel"): ROOM_USERS,
    ("PATCH", "/api/v1/workshops/{workshop_id}"): ROOM_USERS,
    ("POST", "/api/v1/workshops/{workshop_id}/sessions/{number}/join"): ROOM_USERS,
    ("GET", "/api/v1/workshops/{workshop_id}/sessions/{number}/attendance"): ROOM_USERS,
    ("GET", "/api/v1/users/me/workshop-sessions"): ROOM_USERS,
    # Calendar feeds: links handed to members; the .ics files answer signed links only.
    ("GET", "/api/v1/users/me/calendar-feed"): ROOM_USERS,
    ("GET", "/api/v1/workshops/{workshop_id}/calendar-feed"): ROOM_USERS,
    ("GET", "/api/v1/workshops/{workshop_id}/calendar.ics"): PUBLIC,
    ("GET", "/api/v1/calendars/{user_id}.ics"): PUBLIC,
    # Cohorts: course roles, facilitation and membership are decided inside (tests/cohorts).
    ("POST", "/api/v1/courses/{course_id}/cohorts"): ROOM_USERS,
    ("GET", "/api/v1/courses/{course_id}/cohorts"): ROOM_USERS,
    ("GET", "/api/v1/cohorts/{cohort_id}"): ROOM_USERS,
    ("PATCH", "/api/v1/cohorts/{cohort_id}"): ROOM_USERS,
    ("POST", "/api/v1/cohorts/{cohort_id}/join-code"): ROOM_USERS,
    ("DELETE", "/api/v1/cohorts/{cohort_id}/join-code"): ROOM_USERS,
    ("POST", "/api/v1/cohorts/join"): ROOM_USERS,
    ("PUT", "/api/v1/cohorts/{cohort_id}/facilitators/{user_id}"): ROOM_USERS,
    ("DELETE", "/api/v1/cohorts/{cohort_id}/facilitators/{user_id}"): ROOM_USERS,
    ("GET", "/api/v1/cohorts/{cohort_id}/members"): ROOM_USERS,
    ("POST", "/api/v1/cohorts/{cohort_id}/members"): ROOM_USERS,
    ("DELETE", "/api/v1/cohorts/{cohort_id}/members/{user_id}"): ROOM_USERS,
    ("POST", "/api/v1/cohorts/{cohort_id}/invitations"): ROOM_USERS,
    ("POST", "/api/v1/cohort-invitations/accept"): ROOM_USERS,
    ("POST", "/api/v1/cohorts/{cohort_id}/import/preview"): ROOM_USERS,
    ("POST", "/api/v1/cohorts/{cohort_id}/import/apply"): ROOM_USERS,
    ("POST", "/api/v1/cohorts/{cohort_id}/transfers"): ROOM_USERS,
    ("GET", "/api/v1/cohorts/{cohort_id}/transfers"): ROOM_USERS,
    ("POST", "/api/v1/cohorts/{cohort_id}/sessions"): ROOM_USERS,
    ("GET", "/api/v1/cohorts/{cohort_id}/sessions"): ROOM_USERS,
    ("POST", "/api/v1/cohorts/{cohort_id}/announcements"): ROOM_USERS,
    ("GET", "/api/v1/cohorts/{cohort_id}/announcements"): ROOM_USERS,
    ("GET", "/api/v1/cohorts/{cohort_id}/dashboard"): ROOM_USERS,
    ("GET", "/api/v1/cohorts/{cohort_id}/dashboard.csv"): ROOM_USERS,
    # Payments: everyone signed in reads the catalogue and buys (an order is its buyer's:
    # someone else's is a 404, tests/payments); finance staff (and admins) run the rest;
    # the providers' webhooks are public, their signature is the access rule.
    ("GET", "/api/v1/payments/products"): ROOM_USERS,
    ("GET", "/api/v1/payments/products/{product_id}"): ROOM_USERS,
    ("POST", "/api/v1/payments/orders"): ROOM_USERS,
    ("GET", "/api/v1/payments/orders"): ROOM_USERS,
    ("GET", "/api/v1/payments/orders/{order_id}"): ROOM_USERS,
    ("GET", "/api/v1/payments/orders/{order_id}/receipt"): ROOM_USERS,
    ("GET", "/api/v1/payments/entitlements"): ROOM_USERS,
    ("POST", "/api/v1/payments/webhooks/{provider_name}"): PUBLIC,
    ("POST", "/api/v1/payments/products"): ADMIN,
    ("GET", "/api/v1/payments/finance/products"): ADMIN,
    ("PATCH", "/api/v1/payments/products/{product_id}"): ADMIN,
    ("PUT", "/api/v1/payments/products/{product_id}/prices"): ADMIN,
    ("POST", "/api/v1/payments/coupons"): ADMIN,
    ("GET", "/api/v1/payments/coupons"): ADMIN,
    ("PATCH", "/api/v1/payments/coupons/{coupon_id}"): ADMIN,
    ("GET", "/api/v1/payments/finance/orders"): ADMIN,
    ("GET", "/api/v1/payments/finance/orders/{order_id}"): ADMIN,
    ("GET", "/api/v1/payments/orders/{order_id}/refunds"): ADMIN,
    ("POST", "/api/v1/payments/orders/{order_id}/refunds"): ADMIN,
    ("GET", "/api/v1/payments/events"): ADMIN,
    # Reconciliation and revenue reports: finance staff (payments:read) and admins.
    ("POST", "/api/v1/payments/reconciliation/runs"): ADMIN,
    ("GET", "/api/v1/payments/reconciliation/runs"): ADMIN,
    ("GET", "/api/v1/payments/reconciliation/runs/{run_id}"): ADMIN,
    ("GET", "/api/v1/payments/reconciliation/runs/{run_id}/differences"): ADMIN,
    ("GET", "/api/v1/payments/reports/revenue"): ADMIN,
}
CALLERS = ("anonymous", "student", "instructor", "admin", "key:profile")


@pytest.fixture(scope="module")
def tokens(sqlite_node: Node) -> dict[str, str | None]:
    """One credential per caller kind; the API key belongs to an admin but holds one scope."""
    found: dict[str, str | None] = {"anonymous": None}
    for role in ("student", "instructor", "admin"):
        found[role] = sqlite_node.register(role)[1]
    with sqlite_node.client(found["admin"]) as admin:
        key = admin.post("/api/v1/api-keys", json={"name": "k", "scopes": ["profile:read"]})
        found["key:profile"] = key.json()["key"]
    return found


def _operations(node: Node) -> Iterator[tuple[str, str]]:
    with node.client() as client:
        document = client.get("/openapi.json").json()
    for path, item in document["paths"].items():
        for method in item:
            yield method.upper(), path


def test_table_lists_every_operation(sqlite_node: Node) -> None:
    assert set(_operations(sqlite_node)) == set(EXPECTED)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_route_access(
    sqlite_node: Node, tokens: dict[str, str | None], caller: str, method: str, path: str
) -> None:
    url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
    # No body: an admitted caller gets a validation error or a result, never 401/403.
    with sqlite_node.client(tokens[caller]) as client:
        status = client.request(method, url).status_code
    allowed = EXPECTED[(method, path)]
    if allowed == PUBLIC or caller in allowed:
        assert status not in (401, 403), f"{caller} refused on {method} {path}"
        assert status < 500
    elif caller == "anonymous":
        assert status == 401, f"anonymous got {status} on {method} {path}"
    else:
        assert status == 403, f"{caller} got {status} on {method} {path}"


# ------------------------------------------------------------------ revoked credentials


def _close_code(url: str) -> tuple[int | None, str]:
    """Open a WebSocket and wait for the server to close it; (code, reason)."""
    with ws_connect(url, open_timeout=30, close_timeout=30, proxy=None) as ws:
        try:
            while True:
                ws.recv(timeout=30)
        except ConnectionClosed:
            pass
        return ws.close_code, ws.close_reason or ""


def _revoke(node: Node, how: str, email: str, token: str) -> None:
    with node.client(token) as client:
        if how == "logout everywhere":
            done = client.post("/api/v1/auth/logout", json={"everywhere": True})
            assert done.status_code == 204, done.text
        elif how == "password change":
            body = {"current_password": PASSWORD, "new_password": "a-new-horse-battery-7"}
            done = client.post("/api/v1/users/me/password", json=body)
            assert done.status_code == 204, done.text
    if how == "deactivation":
        with node.client(node.admin_token()) as admin:
            done = admin.patch(f"/api/v1/users/{node.user_id(email)}", json={"is_active": False})
            assert done.status_code == 200, done.text


@pytest.mark.parametrize("how", ["logout everywhere", "password change", "deactivation"])
def test_revoked_credentials_are_refused_on_every_route_and_channel(
    sqlite_node: Node, how: str
) -> None:
    """After a revocation the old access token gets 401 on every route that needs a
    caller, and a join token minted before it opens neither WebSocket channel (4001)."""
    email, token = sqlite_node.register("instructor")
    with sqlite_node.client(token) as client:
        room = client.post("/api/v1/rooms", json={"title": "revoked"}).json()["id"]
        joined = client.post(f"/api/v1/rooms/{room}/join").json()
    _revoke(sqlite_node, how, email, token)
    wrong = []
    for method, path in sorted(EXPECTED):
        if EXPECTED[(method, path)] == PUBLIC:
            continue
        url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        with sqlite_node.client(token) as client:
            status = client.request(method, url).status_code
        if status != 401:
            wrong.append(f"{method} {path}: {status}")
    assert not wrong, wrong
    channels = [joined["ws_url"], *(d["url"] for d in joined["documents"])]
    for url in channels:
        assert _close_code(f"{url}?token={joined['token']}") == (4001, "signed out"), url
