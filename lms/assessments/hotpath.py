"""The autosave's hot path: a save checked from what this node remembers, the database's
word taken in the write's own batch.

Every student of an exam saves every few seconds. Checking a save from the database (the
caller's user row, their course role, the attempt, its quiz, the question versions) cost
five or six reads per save, which made the node's CPU the limit. What a save is checked
against is mostly immutable per attempt: its owner, course, deadline, seed and question
versions never change once it started, and a question version's definition never changes
either. So each node remembers them (``Facts``, bounded, least recently used dropped) after
one full check, and a later save of the same attempt is checked here with no read at all:
the bearer token's signature and expiry, the owner, the deadline, the questions and the
answers' shapes.

What can change is checked by the database, in the write's batch (``allowed``, in the
writer's transaction that claims the attempts still open): the account still active with
the token's version (not signed out everywhere), still allowed to see the course (enrolled,
or the course published, as the full check). So a node never accepts a save the database
state refuses, whichever node changed that state and whether or not a revocation signal
arrived. A save this path cannot decide (no facts yet, an API key, past the deadline by the
facts, a file answer, anything refused) goes the full way (``attempt_routes``), which
answers with the proper error.
"""

from __future__ import annotations

import uuid
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy import and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lms.accounts.tokens import TokenError, api_key_prefix, read_access_token
from lms.assessments import banks
from lms.assessments.errors import InvalidResponse
from lms.assessments.questions import receive
from lms.assessments.questions.shuffle import question_seed
from lms.auth import Principal
from lms.deps import get_settings
from lms.permissions import Permission, admit, permissions_of
from ops.guards import guard
from persistence.models import Course, Enrollment, QuizAttempt, User

MAX_ATTEMPTS = 50_000
"""Attempts whose facts a node remembers (a few hundred bytes each)."""
MAX_VERSIONS = 20_000
"""Parsed question versions a node remembers (shared by every attempt given them)."""


@dataclass(frozen=True, slots=True)
class TokenCaller:
    """A caller known by a valid bearer access token only (its signature and expiry): the
    account behind it is confirmed by the database in the write's batch (``allowed``)."""

    user_id: uuid.UUID
    token_version: int


@guard
async def saving_learner(request: Request) -> TokenCaller | Principal:
    """Access rule of the autosave: a valid bearer access token is taken as it is (no read;
    the batch confirms it), anything else gets ``require_reading(COURSES_READ)``'s full
    check (401 without a credential or with an invalid one, 403 without the grant) through
    a reader of its own: the hot path opens no session at all."""
    found = caller_of(request.headers.get("authorization"), get_settings(request).secret_key)
    if found is not None:
        return TokenCaller(*found)
    async with read_sessions(request)() as reader:
        return await admit(request, reader, Permission.COURSES_READ)


class Recheck(Exception):
    """The fast path cannot accept this save: check it the full way."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a fast-path save claims to be, for the batch to confirm (``allowed``)."""

    user_id: uuid.UUID
    token_version: int
    course_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Facts:
    """What never changes about an attempt once started."""

    attempt_id: uuid.UUID
    user_id: uuid.UUID
    course_id: uuid.UUID
    deadline: datetime | None
    seed: str
    definitions: Mapping[uuid.UUID, Any]  # question id -> its version's parsed definition


class Memory:
    """A node's remembered facts (least recently used dropped beyond the bounds)."""

    def __init__(self, attempts: int = MAX_ATTEMPTS, versions: int = MAX_VERSIONS) -> None:
        self._attempts: OrderedDict[uuid.UUID, Facts] = OrderedDict()
        self._versions: OrderedDict[tuple[uuid.UUID, int], Any] = OrderedDict()
        self._max_attempts = attempts
        self._max_versions = versions

    def get(self, attempt_id: uuid.UUID) -> Facts | None:
        found = self._attempts.get(attempt_id)
        if found is not None:
            self._attempts.move_to_end(attempt_id)
        return found

    def forget(self, attempt_id: uuid.UUID) -> None:
        self._attempts.pop(attempt_id, None)

    async def definitions(
        self, session: AsyncSession, wanted: Sequence[tuple[uuid.UUID, int]]
    ) -> dict[tuple[uuid.UUID, int], Any]:
        """The parsed definitions of (question, version) pairs: a version never changes,
        so each is read and parsed once per node (``banks.versions`` for the others)."""
        found = {pair: self._versions[pair] for pair in wanted if pair in self._versions}
        missing = [pair for pair in wanted if pair not in found]
        for pair, definition in (await banks.versions(session, missing)).items():
            found[pair] = self._versions[pair] = definition
            if len(self._versions) > self._max_versions:
                self._versions.popitem(last=False)
        return found

    async def learn(self, session: AsyncSession, target: QuizAttempt) -> Facts:
        """Remember ``target``'s facts (its question versions read once per node)."""
        given = {uuid.UUID(q["question_id"]): int(q["version"]) for q in target.questions}
        known = await self.definitions(session, list(given.items()))
        definitions = {q: known.get((q, v)) for q, v in given.items()}
        facts = Facts(
            attempt_id=target.id,
            user_id=target.user_id,
            course_id=target.course_id,
            deadline=target.deadline,
            seed=target.seed,
            definitions=definitions,
        )
        if all(d is not None for d in definitions.values()):
            self._attempts[target.id] = facts
            if len(self._attempts) > self._max_attempts:
                self._attempts.popitem(last=False)
        return facts


def caller_of(authorization: str | None, secret: str) -> tuple[uuid.UUID, int] | None:
    """(user id, token version) of a valid bearer access token; None for anything else (no
    header, an API key, an invalid or expired token: the full check answers those)."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or api_key_prefix(token):
        return None
    try:
        claims = read_access_token(token, secret=secret)
    except TokenError:
        return None
    return claims.user_id, claims.version


def read_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """The reader session factory, for the autosave's full check: the hot path opens no
    session at all (a reader dependency cost a fifth of a save's CPU in FastAPI's generator
    handling, for a session it never used)."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.read_sessionmaker
    return factory


def canonical(
    facts: Facts, answers: Mapping[uuid.UUID, dict[str, Any]]
) -> dict[uuid.UUID, dict[str, Any]]:
    """``attempts.canonical`` from the facts, with no read; ``Recheck`` for anything it
    cannot decide (a question not given, a file answer, an answer refused)."""
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for question_id, data in answers.items():
        definition = facts.definitions.get(question_id)
        if definition is None or definition.type == "file_upload":
            raise Recheck
        try:
            response = receive(definition, question_seed(facts.seed, str(question_id)), data)
        except InvalidResponse:
            raise Recheck from None
        found[question_id] = response.model_dump(mode="json")
    return found


# Built once (expanding parameters): building it per batch was a tenth of a save's CPU.
_CALLERS = (
    select(User.id, User.is_active, User.token_version, User.role, Enrollment.course_id)
    .outerjoin(
        Enrollment,
        and_(
            Enrollment.user_id == User.id,
            Enrollment.course_id.in_(
                bindparam("courses", expanding=True, type_=Enrollment.course_id.type)
            ),
        ),
    )
    .where(User.id.in_(bindparam("users", expanding=True, type_=User.id.type)))
)


async def allowed(session: AsyncSession, callers: Sequence[Caller | None]) -> list[bool]:
    """Whether each fast-path save's caller may still save (None: checked the full way
    already): the account active, the token's version current, the platform role holding
    ``courses:read``, the course visible to them (enrolled, admin, or published). One read
    for the whole batch (two when someone is not enrolled), in the writer's transaction."""
    wanted = [c for c in callers if c is not None]
    if not wanted:
        return [True] * len(callers)
    user_ids = {c.user_id for c in wanted}
    course_ids = {c.course_id for c in wanted}
    rows = (
        await session.execute(_CALLERS, {"users": list(user_ids), "courses": list(course_ids)})
    ).all()
    users = {row.id: row for row in rows}
    enrolled = {(row.course_id, row.id) for row in rows if row.course_id is not None}
    unenrolled = {c.course_id for c in wanted if (c.course_id, c.user_id) not in enrolled}
    published: set[uuid.UUID] = set()
    if unenrolled:  # rare in an exam: everyone saving is enrolled
        published = set(
            (
                await session.scalars(
                    select(Course.id).where(Course.id.in_(unenrolled), Course.status == "published")
                )
            ).all()
        )

    def ok(caller: Caller | None) -> bool:
        if caller is None:
            return True
        user = users.get(caller.user_id)
        if user is None or not user.is_active or user.token_version != caller.token_version:
            return False
        if Permission.COURSES_READ not in permissions_of(user.role):
            return False
        return (
            user.role == "admin"
            or (caller.course_id, caller.user_id) in enrolled
            or caller.course_id in published
        )

    return [ok(c) for c in callers]


_memories: weakref.WeakKeyDictionary[async_sessionmaker[AsyncSession], Memory] = (
    weakref.WeakKeyDictionary()
)


def memory_for(sessions: async_sessionmaker[AsyncSession]) -> Memory:
    """The node's memory of attempts (one per writer session factory, made on first use)."""
    found = _memories.get(sessions)
    if found is None:
        found = _memories[sessions] = Memory()
    return found
