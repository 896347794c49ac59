"""The cohort dashboard: per learner progress (lms.content.progress, as the learner's own
content view computes it, pacing included), attendance at the cohort's live sessions (the
rooms' attendance records) and who is falling behind.

The rule: a learner is *behind* when either
- their progress (share of the course's required items completed, in %) is below the
  share the cohort's pacing has released by now (required items of modules open to the
  cohort now: a paced module from its cohort date, any other module from its own
  ``unlock_at`` or at once), or
- they have been inactive ``inactive_days`` days or more: no progress recorded, no cohort
  session attended and no joining since then.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.cohorts import pacing
from lms.cohorts.schemas import DashboardOut, LearnerRow, SortKey
from lms.content import progress, structure, view
from persistence.models import (
    Attendance,
    Cohort,
    CohortMember,
    CohortSession,
    CourseModule,
    ModuleItem,
    User,
)
from persistence.models.base import as_utc

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def expected_percent(
    modules: Sequence[CourseModule],
    items: Sequence[ModuleItem],
    paced: dict[uuid.UUID, datetime],
    now: datetime,
) -> float:
    """The share (%) of required items in modules open to the cohort now."""
    released: set[uuid.UUID] = set()
    for m in modules:
        opens = paced.get(m.id, m.unlock_at)
        if m.published and (opens is None or opens <= now):
            released.add(m.id)
    published = {m.id for m in modules if m.published}
    required = [i for i in items if i.published and i.module_id in published]
    if not required:
        return 0.0
    return round(100 * sum(1 for i in required if i.module_id in released) / len(required), 1)


async def build(
    session: AsyncSession,
    cohort: Cohort,
    now: datetime,
    *,
    inactive_days: int,
    sort: SortKey,
    descending: bool,
) -> DashboardOut:
    """Every member's row, sorted by ``sort`` (ties by name, then id)."""
    members = list(
        (
            await session.execute(
                select(CohortMember, User)
                .join(User, User.id == CohortMember.user_id)
                .where(CohortMember.cohort_id == cohort.id)
            )
        ).all()
    )
    user_ids = [m.user_id for m, _ in members]
    modules = await structure.modules_of(session, cohort.course_id)
    items = await structure.items_of(session, cohort.course_id)
    paced = pacing.schedule_of(cohort, await pacing.pacing_rows(session, cohort.id))
    expected = expected_percent(modules, items, paced, now)
    rows = await progress.of_learners(session, cohort.course_id, user_ids)
    sessions = list(
        await session.scalars(select(CohortSession).where(CohortSession.cohort_id == cohort.id))
    )
    held = sum(1 for s in sessions if s.starts_at <= now)
    attended: dict[uuid.UUID, tuple[int, datetime | None]] = {}
    if sessions and user_ids:
        found = await session.execute(
            select(
                Attendance.user_id,
                func.count(func.distinct(Attendance.room_id)),
                func.max(Attendance.joined_at),
            )
            .where(
                Attendance.room_id.in_([s.room_id for s in sessions]),
                Attendance.user_id.in_(user_ids),
            )
            .group_by(Attendance.user_id)
        )
        attended = {u: (int(n), last) for u, n, last in found.all()}
    learner = view.Viewer(drafts=False, editor=False, learner=True)
    cutoff = now - timedelta(days=inactive_days)
    table: list[LearnerRow] = []
    for member, user in members:
        mine = rows.get(member.user_id, {})
        seen = view.content(cohort.course_id, modules, items, mine, learner, now, paced)
        count, last_room = attended.get(member.user_id, (0, None))
        moments = [member.joined_at, *(r.updated_at for r in mine.values())]
        if last_room is not None:
            moments.append(as_utc(last_room))
        last = max(as_utc(m) for m in moments)
        reasons = []
        if seen.percent < expected:
            reasons.append("below_pace")
        if last <= cutoff:
            reasons.append("inactive")
        table.append(
            LearnerRow(
                user_id=user.id,
                name=user.name,
                email=user.email,
                percent=seen.percent,
                expected_percent=expected,
                attended=count,
                sessions_held=held,
                last_active=last,
                behind=bool(reasons),
                reasons=reasons,
            )
        )
    table.sort(key=lambda r: (r.name.lower(), str(r.user_id)))
    if sort != "name":
        table.sort(key=lambda r: _key(r, sort), reverse=descending)
    elif descending:
        table.reverse()
    return DashboardOut(
        cohort_id=cohort.id,
        inactive_days=inactive_days,
        learners=table,
        behind=sum(1 for r in table if r.behind),
    )


def _key(row: LearnerRow, sort: SortKey) -> float | int | datetime | bool:
    if sort == "progress":
        return row.percent
    if sort == "expected":
        return row.percent - row.expected_percent
    if sort == "attendance":
        return row.attended
    if sort == "last_active":
        return row.last_active
    return row.behind


def _safe(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def as_csv(board: DashboardOut) -> str:
    """The dashboard as CSV, one row per learner (spreadsheet formulas neutralised)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "Name",
            "Email",
            "User ID",
            "Progress %",
            "Expected %",
            "Sessions attended",
            "Sessions held",
            "Last active (UTC)",
            "Behind",
            "Reasons",
        ]
    )
    for r in board.learners:
        writer.writerow(
            [
                _safe(r.name),
                _safe(r.email),
                str(r.user_id),
                r.percent,
                r.expected_percent,
                r.attended,
                r.sessions_held,
                r.last_active.isoformat(),
                "yes" if r.behind else "no",
                " ".join(r.reasons),
            ]
        )
    return out.getvalue()
