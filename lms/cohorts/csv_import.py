"""Adding learners to a cohort from a CSV file: parsed into a preview (who would be added,
who is already in, the errors per row), then applied all or nothing.

The file has a header row with an ``email`` column (any case; other columns are ignored).
Each row names an active account by address. A row is an error when the address is empty
or unknown, appears twice, belongs to course staff or to a learner in another cohort of the
course, or when the additions would overrun the cohort's capacity. The preview's
``version`` hashes the file and the additions: applying recomputes the preview and refuses
(409) when it no longer holds, and a file with errors is refused (422) as a whole.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.cohorts.service import STAFF_ROLES, member_count
from lms.errors import InvalidInput
from persistence.models import Cohort, CohortMember, Enrollment, User

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
MAX_ERRORS = 200


@dataclass
class Preview:
    """What the file would do."""

    rows: int = 0
    adds: list[tuple[int, User]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    version: str = ""

    def error(self, row: int, message: str) -> None:
        """Note an error (at most ``MAX_ERRORS`` are kept)."""
        if len(self.errors) < MAX_ERRORS:
            self.errors.append((row, message))


def _rows(data: bytes) -> list[tuple[int, str]]:
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"The file is larger than {MAX_BYTES} bytes.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("The file is not UTF-8 text.") from exc
    try:
        table = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise InvalidInput(f"The file is not valid CSV: {exc}.") from exc
    if not table:
        raise InvalidInput("The file is empty.")
    header = [h.strip().lower() for h in table[0]]
    if "email" not in header:
        raise InvalidInput("The first row must name an 'email' column.")
    at = header.index("email")
    body = table[1:]
    if len(body) > MAX_ROWS:
        raise InvalidInput(f"The file has more than {MAX_ROWS} rows.")
    return [(n, (r[at] if at < len(r) else "").strip().lower()) for n, r in enumerate(body, 2)]


async def preview(session: AsyncSession, cohort: Cohort, data: bytes) -> Preview:
    """Parse ``data`` against the cohort now; nothing is written."""
    found = Preview()
    rows = _rows(data)
    found.rows = len(rows)
    emails = {e for _, e in rows if e}
    users: dict[str, User] = {}
    if emails:
        query = select(User).where(func.lower(User.email).in_(emails))
        users = {u.email.lower(): u for u in (await session.scalars(query)).all()}
    ids = [u.id for u in users.values()]
    placed: dict[uuid.UUID, uuid.UUID] = {}
    staff: set[uuid.UUID] = set()
    if ids:
        placed = dict(
            (
                await session.execute(
                    select(CohortMember.user_id, CohortMember.cohort_id).where(
                        CohortMember.course_id == cohort.course_id, CohortMember.user_id.in_(ids)
                    )
                )
            ).all()
        )
        staff = set(
            (
                await session.scalars(
                    select(Enrollment.user_id).where(
                        Enrollment.course_id == cohort.course_id,
                        Enrollment.user_id.in_(ids),
                        Enrollment.role.in_(STAFF_ROLES),
                    )
                )
            ).all()
        )
    seen: set[str] = set()
    for number, email in rows:
        user = users.get(email)
        if not email:
            found.error(number, "The email cell is empty.")
        elif email in seen:
            found.error(number, f"{email} appears more than once.")
        elif user is None or not user.is_active or user.erased_at is not None:
            found.error(number, f"No active account has the address {email}.")
        elif user.id in staff:
            found.error(number, f"{email} teaches this course.")
        elif placed.get(user.id) == cohort.id:
            found.unchanged += 1
        elif user.id in placed:
            found.error(number, f"{email} is in another cohort of this course: transfer them.")
        else:
            found.adds.append((number, user))
        seen.add(email)
    if cohort.capacity is not None:
        room = cohort.capacity - await member_count(session, cohort.id)
        if len(found.adds) > room:
            found.error(0, f"The cohort has room for {max(0, room)} more, not {len(found.adds)}.")
    digest = hashlib.sha256(data)
    for _, user in found.adds:
        digest.update(user.id.bytes)
    found.version = digest.hexdigest()[:32]
    return found
