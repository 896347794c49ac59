"""Who may open a course page's live document: `courses/{course}/pages/{page}` on the Yjs
channel, with an editor token from `POST /api/v1/pages/{id}/editor`.

The token only says who asks for which document; when the socket opens, the holder is
checked again against the database: the account active with the token's `ver`, and the
course role it has *now* (instructors write, TAs read the draft, anyone else is refused).
A role taken away after the token was minted is therefore refused at the next connect, and
open connections close when the revocation signal names the person: all of them when their
sessions are revoked (4001), the course's when they leave it (4003).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lms.courses.roles import CourseAction, CourseRole, may
from persistence.models import Enrollment, Page, User
from realtime.errors import ForbiddenError, RealtimeError, UnauthorizedError
from realtime.yjs.channel import AccessListener

AUDIENCE = "liveclass:page"
ALGORITHM = "HS256"
TTL = timedelta(minutes=10)
PAGE_DOCUMENT = re.compile(r"courses/(?P<course>[0-9a-f-]{36})/pages/(?P<page>[0-9a-f-]{36})")
PREFIX = "courses/"


def document_name(course_id: uuid.UUID, page_id: uuid.UUID) -> str:
    """The Yjs document holding a page's body."""
    return f"courses/{course_id}/pages/{page_id}"


def parse(name: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(course id, page id) of a page document's name, or None."""
    found = PAGE_DOCUMENT.fullmatch(name)
    if found is None:
        return None
    try:
        course_id, page_id = uuid.UUID(found["course"]), uuid.UUID(found["page"])
    except ValueError:
        return None
    return (course_id, page_id) if name == document_name(course_id, page_id) else None


def mint(*, user_id: uuid.UUID, version: int, document: str, secret: str, now: datetime) -> str:
    """An editor token for `document`, valid for `TTL`."""
    issued = round(now.timestamp(), 3)
    payload = {
        "aud": AUDIENCE,
        "sub": str(user_id),
        "doc": document,
        "ver": version,
        "iat": issued,
        "exp": issued + TTL.total_seconds(),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


class PageAccess:
    """One connection's access to a page document: writable or not for its life, ended by
    the revocation signal (sessions revoked, removal from the course)."""

    def __init__(
        self, policy: PageDocumentPolicy, user_id: str, course_id: str, *, writable: bool
    ) -> None:
        self.policy = policy
        self.user_id = user_id
        self.course_id = course_id
        self._writable = writable
        self.listener: AccessListener | None = None
        self.revoked: RealtimeError | None = None

    @property
    def writable(self) -> bool:
        """Whether this connection may edit the page."""
        return self._writable

    def watch(self, listener: AccessListener) -> None:
        """Tell `listener` when access ends (at once if it already did)."""
        self.listener = listener
        if self.revoked is not None:
            listener.stop(self.revoked)

    def grant(self, *, writable: bool) -> None:
        """The holder's check passed: edit or read."""
        self._writable = writable

    def revoke(self, error: RealtimeError) -> None:
        """Access ended: the connection closes with `error`."""
        self.revoked = self.revoked or error
        if self.listener is not None:
            self.listener.stop(error)

    def close(self) -> None:
        """The connection ended."""
        self.policy.accesses.discard(self)


class PageDocumentPolicy:
    """Authorizes Yjs connections to course page documents."""

    def __init__(
        self, *, sessionmaker: async_sessionmaker[AsyncSession], secret: Callable[[], str]
    ) -> None:
        self.sessions = sessionmaker
        self.secret = secret
        self.accesses: set[PageAccess] = set()

    async def authorize(self, token: str, name: str) -> PageAccess:
        """Check the editor token and the holder's course role now; 4001 or 4003."""
        try:
            data = jwt.decode(
                token,
                self.secret(),
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": ["sub", "doc", "ver", "exp", "iat"]},
            )
            user_id, version = uuid.UUID(str(data["sub"])), int(data["ver"])
        except (jwt.PyJWTError, ValueError, TypeError, KeyError, OverflowError):
            raise UnauthorizedError("invalid or expired editor token") from None
        parsed = parse(name)
        if parsed is None or data["doc"] != name:
            raise ForbiddenError("the token grants no access to this document")
        # Followed from before the check, so a revocation committed meanwhile still applies.
        access = PageAccess(self, str(user_id), str(parsed[0]), writable=False)
        self.accesses.add(access)
        try:
            async with self.sessions() as session:
                role = await _current_role(session, user_id, version, *parsed)
            if not may(role, CourseAction.VIEW_DRAFTS):
                raise ForbiddenError("your course role does not let you open this page's draft")
            if access.revoked is not None:
                raise access.revoked
        except BaseException:
            access.close()
            raise
        access.grant(writable=may(role, CourseAction.EDIT))
        return access

    def revoke(self, user_id: str, scopes: frozenset[str] | None, error: RealtimeError) -> int:
        """Close this node's page connections of `user_id` (in the courses among `scopes`,
        or all); the revocation signal (`rooms.revocation`) calls this on every node."""
        found = [
            a
            for a in list(self.accesses)
            if a.user_id == user_id and (scopes is None or a.course_id in scopes)
        ]
        for access in found:
            access.revoke(error)
        return len(found)


async def _current_role(
    session: AsyncSession,
    user_id: uuid.UUID,
    version: int,
    course_id: uuid.UUID,
    page_id: uuid.UUID,
) -> CourseRole | None:
    user = await session.get(User, user_id)
    if user is None or not user.is_active or user.token_version != version:
        raise UnauthorizedError("the account's sessions were revoked")
    page = await session.get(Page, page_id)
    if page is None or page.course_id != course_id:
        raise ForbiddenError("no such page")
    if user.role == "admin":
        return CourseRole.INSTRUCTOR
    found = await session.scalar(
        select(Enrollment.role).where(
            Enrollment.course_id == course_id, Enrollment.user_id == user_id
        )
    )
    return CourseRole(found) if found else None
