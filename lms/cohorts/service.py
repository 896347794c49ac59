"""Cohorts: creating and changing one, its pacing and facilitators, and its membership
(joining, leaving, transfers). Sessions in, values out; no HTTP.

A learner is in at most one cohort per course (a unique constraint on the membership);
joining a cohort enrols in the course as a student. Membership changes lock the cohort's
row first (an UPDATE, as workshops do), so a capacity is never overrun by a race.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import emit
from lms.cohorts import codes, pacing
from lms.cohorts.events import MEMBER_JOINED, MEMBER_TRANSFERRED, MemberJoined, MemberTransferred
from lms.cohorts.schemas import (
    CohortCreate,
    CohortOut,
    CohortUpdate,
    MembershipOut,
    PacingIn,
    PersonOut,
    ScheduleEntry,
)
from lms.errors import Conflict, InvalidInput, NotFound
from lms.rooms import service as rooms
from persistence.models import (
    Cohort,
    CohortFacilitator,
    CohortMember,
    CohortPacing,
    CohortSession,
    CohortTransfer,
    Course,
    CourseModule,
    Enrollment,
    User,
)
from persistence.models.base import utcnow

STAFF_ROLES = ("instructor", "ta")


async def _check_pacing(session: AsyncSession, course_id: uuid.UUID, rows: list[PacingIn]) -> None:
    ids = [row.module_id for row in rows]
    if len(set(ids)) != len(ids):
        raise InvalidInput("Each module may be paced once.", field="pacing")
    if not ids:
        return
    found = await session.scalars(
        select(CourseModule.id).where(CourseModule.course_id == course_id, CourseModule.id.in_(ids))
    )
    missing = set(ids) - set(found.all())
    if missing:
        raise InvalidInput(
            "Some paced modules are not modules of this course.",
            field="pacing",
            modules=sorted(str(m) for m in missing),
        )


async def _set_pacing(session: AsyncSession, cohort: Cohort, rows: list[PacingIn]) -> None:
    await session.execute(delete(CohortPacing).where(CohortPacing.cohort_id == cohort.id))
    for row in rows:
        session.add(
            CohortPacing(cohort_id=cohort.id, module_id=row.module_id, offset_days=row.offset_days)
        )
    await session.flush()


async def create(
    session: AsyncSession, course: Course, body: CohortCreate, by: uuid.UUID
) -> Cohort:
    """A new cohort with its pacing, facilitators and (optionally) a join code."""
    pacing.zone(body.time_zone)
    await _check_pacing(session, course.id, body.pacing)
    cohort = Cohort(
        course_id=course.id,
        name=body.name,
        time_zone=body.time_zone,
        start_date=body.start_date,
        end_date=body.end_date,
        capacity=body.capacity,
        join_code=codes.new_code() if body.self_enrolment else None,
        created_by=by,
        created_at=utcnow(),
    )
    session.add(cohort)
    await session.flush()
    await _set_pacing(session, cohort, body.pacing)
    for user_id in dict.fromkeys(body.facilitator_ids):
        await add_facilitator(session, cohort, user_id)
    return cohort


async def update_cohort(session: AsyncSession, cohort: Cohort, body: CohortUpdate) -> list[str]:
    """Apply the given fields (``pacing`` replaces the schedule); the names changed."""
    changes = body.model_dump(exclude_none=True, exclude={"pacing"})
    if "time_zone" in changes:
        pacing.zone(changes["time_zone"])
    start = changes.get("start_date", cohort.start_date)
    end = changes.get("end_date", cohort.end_date)
    if end < start:
        raise InvalidInput("end_date must not be before start_date.", field="end_date")
    if "capacity" in changes and changes["capacity"] < await member_count(session, cohort.id):
        raise Conflict("The cohort already has more members than that.", reason="capacity")
    for name, value in changes.items():
        setattr(cohort, name, value)
    if body.pacing is not None:
        await _check_pacing(session, cohort.course_id, body.pacing)
        await _set_pacing(session, cohort, body.pacing)
        changes["pacing"] = True
    await session.flush()
    return sorted(changes)


async def lock(session: AsyncSession, cohort_id: uuid.UUID) -> Cohort:
    """The cohort, its row locked for this transaction and read fresh; 404 if none."""
    await session.execute(update(Cohort).where(Cohort.id == cohort_id).values(name=Cohort.name))
    found = (
        await session.execute(
            select(Cohort).where(Cohort.id == cohort_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("No such cohort.")
    return found


async def member_count(session: AsyncSession, cohort_id: uuid.UUID) -> int:
    """How many learners the cohort has."""
    query = select(func.count()).where(CohortMember.cohort_id == cohort_id)
    return int((await session.execute(query)).scalar_one())


async def membership_in_course(
    session: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID
) -> CohortMember | None:
    """The learner's membership in a cohort of the course, if any."""
    query = select(CohortMember).where(
        CohortMember.course_id == course_id, CohortMember.user_id == user_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _session_rooms(session: AsyncSession, cohort_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(CohortSession.room_id).where(CohortSession.cohort_id == cohort_id)
    )
    return list(rows.all())


async def _check_room(cohort: Cohort, count: int) -> None:
    if cohort.capacity is not None and count >= cohort.capacity:
        raise Conflict("This cohort is full.", reason="full")


async def join(
    session: AsyncSession, cohort_id: uuid.UUID, user: User, via: str, now: datetime
) -> CohortMember:
    """Put ``user`` in the cohort and enrol them in its course as a student. 409 when the
    cohort is full, when they are already in a cohort of the course, or teach it."""
    cohort = await lock(session, cohort_id)
    existing = await membership_in_course(session, cohort.course_id, user.id)
    if existing is not None:
        same = existing.cohort_id == cohort.id
        raise Conflict(
            "You are already in this cohort."
            if same
            else "Already in another cohort of this course: ask for a transfer.",
            reason="member" if same else "other_cohort",
        )
    enrollment = (
        await session.execute(
            select(Enrollment).where(
                Enrollment.course_id == cohort.course_id, Enrollment.user_id == user.id
            )
        )
    ).scalar_one_or_none()
    if enrollment is not None and enrollment.role in STAFF_ROLES:
        raise Conflict("Course staff facilitate cohorts rather than join them.", reason="staff")
    await _check_room(cohort, await member_count(session, cohort.id))
    if enrollment is None:
        session.add(Enrollment(course_id=cohort.course_id, user_id=user.id, role="student"))
    member = CohortMember(
        cohort_id=cohort.id, course_id=cohort.course_id, user_id=user.id, via=via, joined_at=now
    )
    session.add(member)
    await session.flush()
    for room_id in await _session_rooms(session, cohort.id):
        await rooms.admit(session, room_id, user.id, "participant")
    payload = MemberJoined(
        cohort_id=cohort.id, course_id=cohort.course_id, user_id=user.id, via=via, at=now
    )
    await emit(session, MEMBER_JOINED, payload, aggregate_id=cohort.id)
    return member


async def leave(session: AsyncSession, cohort: Cohort, user_id: uuid.UUID) -> list[uuid.UUID]:
    """Take a learner out of the cohort (they stay enrolled in the course); 404 if not in.
    Returns the cohort's rooms they lost their place in."""
    member = (
        await session.execute(
            select(CohortMember).where(
                CohortMember.cohort_id == cohort.id, CohortMember.user_id == user_id
            )
        )
    ).scalar_one_or_none()
    if member is None:
        raise NotFound("No such member.")
    await session.delete(member)
    lost = await _session_rooms(session, cohort.id)
    for room_id in lost:
        await rooms.dismiss(session, room_id, user_id)
    await session.flush()
    return lost


async def transfer(
    session: AsyncSession,
    source: Cohort,
    user_id: uuid.UUID,
    target_id: uuid.UUID,
    by: uuid.UUID,
    reason: str,
    now: datetime,
) -> tuple[CohortTransfer, list[uuid.UUID]]:
    """Move a member to another cohort of the same course, keeping the history; also the
    source cohort's rooms they lost their place in."""
    if target_id == source.id:
        raise Conflict("The learner is already in this cohort.", reason="same_cohort")
    first, second = sorted((source.id, target_id))  # lock in one order: no deadlock
    locked = {first: await lock(session, first), second: await lock(session, second)}
    target = locked[target_id]
    if target.course_id != source.course_id:
        raise InvalidInput(
            "A learner moves only between cohorts of the same course.", field="to_cohort_id"
        )
    member = (
        await session.execute(
            select(CohortMember)
            .where(CohortMember.cohort_id == source.id, CohortMember.user_id == user_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if member is None:
        raise NotFound("No such member.")
    await _check_room(target, await member_count(session, target.id))
    member.cohort_id, member.via, member.joined_at = target.id, "transfer", now
    row = CohortTransfer(
        course_id=source.course_id,
        user_id=user_id,
        from_cohort_id=source.id,
        to_cohort_id=target.id,
        by_id=by,
        reason=reason,
        at=now,
    )
    session.add(row)
    lost = await _session_rooms(session, source.id)
    for room_id in lost:
        await rooms.dismiss(session, room_id, user_id)
    for room_id in await _session_rooms(session, target.id):
        await rooms.admit(session, room_id, user_id, "participant")
    await session.flush()
    payload = MemberTransferred(
        course_id=source.course_id,
        user_id=user_id,
        from_cohort_id=source.id,
        to_cohort_id=target.id,
        by_id=by,
        reason=reason,
        at=now,
    )
    await emit(session, MEMBER_TRANSFERRED, payload, aggregate_id=f"{source.course_id}:{user_id}")
    return row, lost


async def add_facilitator(session: AsyncSession, cohort: Cohort, user_id: uuid.UUID) -> None:
    """Name an active user a facilitator (co-host of the cohort's sessions)."""
    user = await session.get(User, user_id)
    if user is None or not user.is_active or user.erased_at is not None:
        raise NotFound("No such user.")
    if await session.get(CohortFacilitator, (cohort.id, user_id)) is None:
        session.add(CohortFacilitator(cohort_id=cohort.id, user_id=user_id, created_at=utcnow()))
        await session.flush()
    for room_id in await _session_rooms(session, cohort.id):
        await rooms.admit(session, room_id, user_id, "co-host")


async def remove_facilitator(
    session: AsyncSession, cohort: Cohort, user_id: uuid.UUID
) -> list[uuid.UUID]:
    """Withdraw a facilitator; 404 if they are none. Returns the rooms they lost."""
    row = await session.get(CohortFacilitator, (cohort.id, user_id))
    if row is None:
        raise NotFound("No such facilitator.")
    await session.delete(row)
    lost = await _session_rooms(session, cohort.id)
    for room_id in lost:
        await rooms.dismiss(session, room_id, user_id)
    await session.flush()
    return lost


async def facilitators(session: AsyncSession, cohort_id: uuid.UUID) -> list[PersonOut]:
    """The cohort's named facilitators."""
    rows = await session.execute(
        select(User.id, User.name)
        .join(CohortFacilitator, CohortFacilitator.user_id == User.id)
        .where(CohortFacilitator.cohort_id == cohort_id)
        .order_by(CohortFacilitator.created_at, User.id)
    )
    return [PersonOut(user_id=u, name=n) for u, n in rows.all()]


async def schedule(session: AsyncSession, cohort: Cohort) -> list[ScheduleEntry]:
    """When each paced module opens to the cohort."""
    rows = await pacing.pacing_rows(session, cohort.id)
    titles = dict(
        (
            await session.execute(
                select(CourseModule.id, CourseModule.title).where(
                    CourseModule.id.in_([r.module_id for r in rows])
                )
            )
        ).all()
    )
    return [
        ScheduleEntry(
            module_id=row.module_id,
            title=titles.get(row.module_id, ""),
            offset_days=row.offset_days,
            opens_on=pacing.opens_on(cohort.start_date, row.offset_days),
            opens_at=pacing.local_midnight(
                pacing.opens_on(cohort.start_date, row.offset_days), cohort.time_zone
            ),
        )
        for row in rows
    ]


def membership_out(member: CohortMember, user: User | None = None) -> MembershipOut:
    """The schema of a membership (with the learner's name and e-mail when given)."""
    return MembershipOut(
        cohort_id=member.cohort_id,
        course_id=member.course_id,
        user_id=member.user_id,
        name=user.name if user else "",
        email=user.email if user else None,
        via=member.via,
        joined_at=member.joined_at,
    )


async def cohort_out(
    session: AsyncSession,
    cohort: Cohort,
    user_id: uuid.UUID,
    *,
    manage: bool,
    facilitate: bool,
) -> CohortOut:
    """The cohort as the caller sees it (the join code for its managers only)."""
    mine = (
        await session.execute(
            select(CohortMember).where(
                CohortMember.cohort_id == cohort.id, CohortMember.user_id == user_id
            )
        )
    ).scalar_one_or_none()
    return CohortOut(
        id=cohort.id,
        course_id=cohort.course_id,
        name=cohort.name,
        time_zone=cohort.time_zone,
        start_date=cohort.start_date,
        end_date=cohort.end_date,
        capacity=cohort.capacity,
        members=await member_count(session, cohort.id),
        schedule=await schedule(session, cohort),
        facilitators=await facilitators(session, cohort.id),
        join_code=cohort.join_code if manage else None,
        can_manage=manage,
        can_facilitate=facilitate,
        my_membership=membership_out(mine) if mine else None,
    )
