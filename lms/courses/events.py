"""What the courses domain tells others: someone left a course's roster, or their course
role changed.

Handlers run inside the transaction that makes the change (so what they write commits
with it) and are registered explicitly at start-up by the node, never on import: the rooms
package withdraws the person's standing in the course's rooms and closes their live
connections there once the change commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

Unenrolled = Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[None]]
"""(session, course id, user id): the user was removed from the course."""
RoleChanged = Callable[[AsyncSession, uuid.UUID, uuid.UUID], Awaitable[None]]
"""(session, course id, user id): the user's role in the course changed."""


class CourseEvents:
    """One app's handlers of the courses domain's events (``CourseEventsDep``)."""

    def __init__(self) -> None:
        self._unenrolled: dict[str, Unenrolled] = {}
        self._role_changed: dict[str, RoleChanged] = {}

    def on_unenrolled(self, name: str, handler: Unenrolled) -> None:
        """Register (at start-up) a handler for removals from a course's roster."""
        self._unenrolled[name] = handler

    def on_role_changed(self, name: str, handler: RoleChanged) -> None:
        """Register (at start-up) a handler for course role changes."""
        self._role_changed[name] = handler

    async def role_changed(
        self, session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID
    ) -> None:
        """Run every handler for ``user_id``'s new role in ``course_id``, in ``session``'s
        transaction."""
        for handler in list(self._role_changed.values()):
            await handler(session, course_id, user_id)

    async def unenrolled(
        self, session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID
    ) -> None:
        """Run every handler for ``user_id`` leaving ``course_id``, in ``session``'s
        transaction."""
        for handler in list(self._unenrolled.values()):
            await handler(session, course_id, user_id)
