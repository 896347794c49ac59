"""The revocation signal: "close this person's live connections", on every node, at once.

When an account's sessions are revoked (signed out everywhere, a password change, an
admin's deactivation, erasure) or a person is removed from a course, their open room and
Yjs connections must end wherever they are, not at their next reconnect. One broker
channel, ``revocations``, carries each signal once (never one per connection); every node
subscribes to it once, at start-up (`Revocations.start`, wired by the node), and closes its
own connections of that person through each `Target` (the room manager, the document
policies: room documents, course pages) with the signal's close code:

- ``signed-out``: 4001 ``signed out`` (a join token needs a valid sign-in: sign in again);
- ``course``: 4003 ``removed from the course``, only in the course's rooms and its page
  documents (the signal's scopes name both the rooms and the course);
- ``course-role``: 4003 ``course role changed``, only in the course's page documents (an
  editor reconnects with a new token and the role it has now).

A signal is published once the change is committed (`Revocations.after_commit`), so a node
that closes a connection finds the change in the database if the client tries again: every
socket that opens is checked against the database (`rooms.tokens.Admit`), and a socket
that opens meanwhile is known to its room before that check, so the signal reaches it if
the check came too early. Without the broker (a Redis outage) the signal still closes this
node's connections; other nodes' connections then last until they reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from realtime.broker import Broker, Publication
from realtime.errors import (
    BrokerUnavailableError,
    ForbiddenError,
    RealtimeError,
    UnauthorizedError,
)

logger = logging.getLogger("liveclass.rooms")
CHANNEL = "revocations"
RETRY_SECONDS = (0.5, 10.0)  # subscribing again while the broker is down: first, longest
_PENDING = "liveclass.revocations"  # Session.info key: signals waiting for the commit


class SignedOutError(UnauthorizedError):
    """The account's sessions were revoked: signed out everywhere, password changed,
    deactivated or erased. A new join token needs a new sign-in."""

    default_reason = "signed out"


class LeftCourseError(ForbiddenError):
    """The person was removed from the course the room belongs to."""

    default_reason = "removed from the course"


class CourseRoleChangedError(ForbiddenError):
    """The person's role in the course changed: what they may do must be decided again."""

    default_reason = "course role changed"


REASONS: dict[str, type[RealtimeError]] = {
    "signed-out": SignedOutError,
    "course": LeftCourseError,
    "course-role": CourseRoleChangedError,
}
"""Each signal's reason and the error (close code and reason) its connections close with."""


@dataclass(frozen=True, slots=True)
class Revocation:
    """Close ``user_id``'s connections, in ``rooms`` (None: in every room), for ``reason``."""

    user_id: str
    reason: str
    rooms: frozenset[str] | None = None

    def encode(self) -> bytes:
        """The published form."""
        rooms = sorted(self.rooms) if self.rooms is not None else None
        return orjson.dumps({"user_id": self.user_id, "reason": self.reason, "rooms": rooms})

    @classmethod
    def decode(cls, payload: bytes) -> Revocation | None:
        """A published signal, or None if it is not one this node understands."""
        try:
            data: Any = orjson.loads(payload)
            rooms = data.get("rooms")
            found = cls(
                str(data["user_id"]),
                str(data["reason"]),
                frozenset(str(r) for r in rooms) if rooms is not None else None,
            )
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError):
            return None
        return found if found.reason in REASONS else None

    @property
    def error(self) -> RealtimeError:
        """What the connections close with."""
        return REASONS[self.reason]()


class Target(Protocol):
    """Something holding connections on this node: the room manager, the document policy."""

    def revoke(self, user_id: str, rooms: frozenset[str] | None, error: RealtimeError) -> int:
        """Close this node's connections of ``user_id`` (in ``rooms``); return how many."""
        ...


class Revocations:
    """The node's end of the signal: publishes it after commits, applies what arrives."""

    def __init__(self, broker: Broker, *targets: Target) -> None:
        self.broker = broker
        self.targets = targets
        self.subscribed = False
        self._tasks: set[asyncio.Task[None]] = set()  # signals being published
        self._retry: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Subscribe (at start-up); while the broker is down, keep trying in the background."""
        try:
            await self.broker.subscribe(CHANNEL, self._deliver)
            self.subscribed = True
        except BrokerUnavailableError as exc:
            logger.warning("revocations not subscribed yet: %s", exc)
            self._retry = asyncio.get_running_loop().create_task(self._subscribe_later())

    async def _subscribe_later(self) -> None:
        delay = RETRY_SECONDS[0]
        while not self.subscribed:
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_SECONDS[1])
            with contextlib.suppress(BrokerUnavailableError):
                await self.broker.subscribe(CHANNEL, self._deliver)
                self.subscribed = True

    async def close(self) -> None:
        """Stop listening; let signals already committed go out first."""
        if self._retry is not None:
            self._retry.cancel()
            await asyncio.wait([self._retry])
        if self._tasks:
            await asyncio.wait(list(self._tasks))
        if self.subscribed:
            with contextlib.suppress(BrokerUnavailableError):
                await self.broker.unsubscribe(CHANNEL, self._deliver)
            self.subscribed = False

    # ------------------------------------------------------------------ sending

    def after_commit(self, session: AsyncSession, revocation: Revocation) -> None:
        """Publish ``revocation`` once ``session`` commits (nothing if it rolls back)."""
        info = session.info
        if _PENDING not in info:
            info[_PENDING] = []
            event.listen(session.sync_session, "after_commit", self._committed)
            event.listen(session.sync_session, "after_rollback", _forget)
        info[_PENDING].append(revocation)

    def _committed(self, session: Session) -> None:
        pending: list[Revocation] = session.info.get(_PENDING) or []
        session.info[_PENDING] = []
        loop = asyncio.get_running_loop()  # commits run in the event loop's thread
        for revocation in pending:
            task = loop.create_task(self.publish(revocation))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def publish(self, revocation: Revocation) -> None:
        """Send the signal to every node (this one included); without the broker, apply it
        here at least."""
        try:
            await self.broker.publish(CHANNEL, revocation.encode())
        except BrokerUnavailableError as exc:
            logger.warning("revocation of %s not broadcast: %s", revocation.user_id, exc)
            self.apply(revocation)

    # ------------------------------------------------------------------ receiving

    def _deliver(self, publication: Publication) -> None:
        revocation = Revocation.decode(publication.payload)
        if revocation is None:
            logger.warning("ignored a revocation signal this node does not understand")
            return
        self.apply(revocation)

    def apply(self, revocation: Revocation) -> int:
        """Close this node's connections the signal names; return how many."""
        error = revocation.error
        closed = sum(t.revoke(revocation.user_id, revocation.rooms, error) for t in self.targets)
        if closed:
            logger.info(
                "closed %d connections of %s (%s)", closed, revocation.user_id, revocation.reason
            )
        return closed


def _forget(session: Session) -> None:
    session.info[_PENDING] = []
