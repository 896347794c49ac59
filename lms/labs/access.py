"""Who may open a learner's workspace document `labs/{lab}/workspaces/{user}` on the Yjs
channel, with an editor token from `POST /api/v1/labs/{id}/workspaces/{user}/editor` (or
`POST /api/v1/labs/{id}/workspace` for one's own).

The token only says who asks for which document; when the socket opens the holder is
checked again against the database (the account active with the token's `ver`, the role it
has in the lab's course *now*): the learner writes their own workspace, the course's
instructors and TAs read and write any, every learner of the course reads the workspace the
instructor shares with the group, anyone else is refused with 4003, a bad token with 4001.

"Eyes on me" is enforced here: while the lab is locked a learner's connection to their own
workspace is read-only (their updates are refused, the stock client is told so); the lock
signal (`labs:{lab}`) switches every open connection on every node at once. Unsharing a
workspace closes the group's read-only connections to it (4003); removal from the course or
revoked sessions close them too (the revocation signal). Archiving a lab (deleting it after
it started) closes every learner's connection (4003) and makes the staff's read-only: the
workspaces are kept for them to look at, not to change.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lms.labs import signals, tokens, workspace_docs
from lms.labs.roles import role_in
from lms.labs.signals import LabSignals
from persistence.models import Lab, LabWorkspace, User
from realtime.connection import Frame
from realtime.errors import ForbiddenError, RealtimeError, UnauthorizedError
from realtime.yjs.channel import AccessListener

Kind = Literal["staff", "owner", "shared"]


class WorkspaceAccess:
    """One connection's access to a workspace; writable changes with the lock."""

    def __init__(
        self, policy: LabDocumentPolicy, lab_id: str, owner: str, user_id: str, course_id: str
    ) -> None:
        self.policy = policy
        self.lab_id = lab_id
        self.owner = owner
        self.user_id = user_id
        self.course_id = course_id
        self.kind: Kind = "shared"
        self._writable = False
        self.listener: AccessListener | None = None
        self.revoked: RealtimeError | None = None

    @property
    def writable(self) -> bool:
        """Whether this connection may edit the workspace now."""
        return self._writable

    def watch(self, listener: AccessListener) -> None:
        """Tell `listener` about later changes (and at once if access already ended)."""
        self.listener = listener
        if self.revoked is not None:
            listener.stop(self.revoked)

    def set_writable(self, writable: bool) -> None:
        """Switch editing on or off (the lock)."""
        if writable != self._writable:
            self._writable = writable
            if self.listener is not None:
                self.listener.access_changed(writable)

    def revoke(self, error: RealtimeError) -> None:
        """Access ended: the connection closes with `error`."""
        self.revoked = self.revoked or error
        if self.listener is not None:
            self.listener.stop(error)

    def close(self) -> None:
        """The connection ended."""
        self.policy.forget(self)


class _LabWatch:
    """Follows one lab's channel for this node's connections to its workspaces."""

    def __init__(self, policy: LabDocumentPolicy, lab_id: str) -> None:
        self.policy = policy
        self.lab_id = lab_id

    def offer(self, frame: Frame) -> bool:
        try:
            message = json.loads(bytes(frame) if not isinstance(frame, str) else frame)
        except ValueError:
            return True
        if isinstance(message, dict):
            self.policy.signal(self.lab_id, message)
        return True


class LabDocumentPolicy:
    """Authorizes Yjs connections to lab workspaces and applies lock and share live."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        secret: Callable[[], str],
        lab_signals: LabSignals,
    ) -> None:
        self.sessions = sessionmaker
        self.secret = secret
        self.signals = lab_signals
        self.accesses: dict[str, set[WorkspaceAccess]] = defaultdict(set)
        self.watches: dict[str, _LabWatch] = {}

    async def authorize(self, token: str, name: str) -> WorkspaceAccess:
        """Check the editor token and the holder's role now; 4001 or 4003."""
        try:
            claims = tokens.read(token, audience=tokens.WORKSPACE_AUDIENCE, secret=self.secret())
        except tokens.TokenError:
            raise UnauthorizedError("invalid or expired editor token") from None
        parsed = workspace_docs.parse(name)
        if parsed is None or claims.subject != name:
            raise ForbiddenError("the token grants no access to this document")
        lab_id, owner = parsed
        access = WorkspaceAccess(self, str(lab_id), str(owner), str(claims.user_id), "")
        # Followed from before the check, so a lock committed meanwhile still applies.
        await self._follow(access)
        try:
            async with self.sessions() as session:
                lab, kind = await _check(session, claims, lab_id, owner)
            if access.revoked is not None:
                raise access.revoked
        except BaseException:
            access.close()
            raise
        access.kind, access.course_id = kind, str(lab.course_id)
        archived = lab.status == "archived"
        access.set_writable(
            not archived and (kind == "staff" or (kind == "owner" and not lab.locked))
        )
        return access

    async def _follow(self, access: WorkspaceAccess) -> None:
        self.accesses[access.lab_id].add(access)
        if access.lab_id not in self.watches:
            watch = self.watches[access.lab_id] = _LabWatch(self, access.lab_id)
            await self.signals.hub.join(signals.channel(access.lab_id), watch)

    def forget(self, access: WorkspaceAccess) -> None:
        """A connection ended: stop following its lab once it was the last."""
        found = self.accesses.get(access.lab_id)
        if found is None:
            return
        found.discard(access)
        if not found:
            del self.accesses[access.lab_id]
            watch = self.watches.pop(access.lab_id, None)
            if watch is not None:
                self.signals.hub.leave(signals.channel(access.lab_id), watch)

    def signal(self, lab_id: str, message: dict[str, object]) -> None:
        """A lab signal arrived: apply a lock or an unshare to this node's connections."""
        found = list(self.accesses.get(lab_id, ()))
        if message.get("type") == "lock":
            locked = bool(message.get("locked"))
            for access in found:
                if access.kind == "owner":
                    access.set_writable(not locked)
        elif message.get("type") == "status" and message.get("status") == "archived":
            for access in found:
                if access.kind == "staff":
                    access.set_writable(False)
                else:
                    access.revoke(ForbiddenError("the lab was deleted"))
        elif message.get("type") == "share":
            shared = message.get("user_id")
            for access in found:
                if access.kind == "shared" and access.owner != shared:
                    access.revoke(ForbiddenError("the workspace is no longer shared"))

    def revoke(self, user_id: str, scopes: frozenset[str] | None, error: RealtimeError) -> int:
        """Close this node's workspace connections of `user_id` (in the courses among
        `scopes`, or all); the revocation signal calls this on every node."""
        hit = [
            a
            for group in list(self.accesses.values())
            for a in list(group)
            if a.user_id == user_id and (scopes is None or a.course_id in scopes)
        ]
        for access in hit:
            access.revoke(error)
        return len(hit)


async def _check(
    session: AsyncSession, claims: tokens.Claims, lab_id: uuid.UUID, owner: uuid.UUID
) -> tuple[Lab, Kind]:
    user = await session.get(User, claims.user_id)
    if user is None or not user.is_active or user.token_version != claims.version:
        raise UnauthorizedError("the account's sessions were revoked")
    lab = await session.get(Lab, lab_id)
    if lab is None:
        raise ForbiddenError("no such workspace")
    exists = await session.scalar(
        select(LabWorkspace.id).where(LabWorkspace.lab_id == lab_id, LabWorkspace.user_id == owner)
    )
    if exists is None:
        raise ForbiddenError("no such workspace")
    role = await role_in(session, user, lab)
    if role == "staff":
        return lab, "staff"
    if lab.status == "archived":
        raise ForbiddenError("the lab was deleted")
    if role == "learner" and user.id == owner:
        return lab, "owner"
    if role == "learner" and lab.shared_user_id == owner:
        return lab, "shared"
    raise ForbiddenError("this workspace is not yours")
