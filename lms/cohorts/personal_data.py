"""The cohorts module's part of personal-data export and erasure.

Export: the person's cohort memberships, transfers, invitations sent to their address,
cohorts they facilitate and announcements they wrote. Erasure: memberships (and their
invitations into the cohorts' rooms), transfers, facilitation, invitations to their
address and wrong-code records go; announcements stay for the cohort, without an author.
The section registers before the account's, so the address is still the person's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lms.personal_data import PersonalData
from lms.rooms import service as rooms
from persistence.models import (
    Cohort,
    CohortAnnouncement,
    CohortCodeAttempt,
    CohortFacilitator,
    CohortInvitation,
    CohortMember,
    CohortSession,
    CohortTransfer,
    User,
)


async def export_cohorts(session: AsyncSession, user: User) -> dict[str, Any]:
    """Everything the cohorts module holds about the user."""
    members = await session.execute(
        select(CohortMember, Cohort)
        .join(Cohort, Cohort.id == CohortMember.cohort_id)
        .where(CohortMember.user_id == user.id)
        .order_by(CohortMember.id)
    )
    transfers = await session.scalars(
        select(CohortTransfer)
        .where(or_(CohortTransfer.user_id == user.id, CohortTransfer.by_id == user.id))
        .order_by(CohortTransfer.id)
    )
    invites = await session.scalars(
        select(CohortInvitation)
        .where(func.lower(CohortInvitation.email) == user.email.lower())
        .order_by(CohortInvitation.created_at)
    )
    led = await session.scalars(
        select(CohortFacilitator.cohort_id).where(CohortFacilitator.user_id == user.id)
    )
    posts = await session.scalars(
        select(CohortAnnouncement)
        .where(CohortAnnouncement.author_id == user.id)
        .order_by(CohortAnnouncement.id)
    )
    return {
        "memberships": [
            {
                "cohort_id": str(c.id),
                "cohort": c.name,
                "course_id": str(c.course_id),
                "via": m.via,
                "joined_at": m.joined_at.isoformat(),
            }
            for m, c in members.all()
        ],
        "transfers": [
            {
                "user_id": str(t.user_id),
                "from_cohort_id": str(t.from_cohort_id),
                "to_cohort_id": str(t.to_cohort_id),
                "by_id": str(t.by_id) if t.by_id else None,
                "reason": t.reason,
                "at": t.at.isoformat(),
            }
            for t in transfers.all()
        ],
        "invitations": [
            {
                "cohort_id": str(i.cohort_id),
                "email": i.email,
                "sent_at": i.created_at.isoformat(),
                "accepted_at": i.accepted_at.isoformat() if i.accepted_at else None,
            }
            for i in invites.all()
        ],
        "facilitating": [str(c) for c in led.all()],
        "announcements": [
            {
                "cohort_id": str(a.cohort_id),
                "title": a.title,
                "body": a.body,
                "at": a.created_at.isoformat(),
            }
            for a in posts.all()
        ],
    }


async def erase_cohorts(session: AsyncSession, user: User) -> None:
    """Remove the user from every cohort and forget what the module holds about them."""
    cohorts = list(
        (
            await session.scalars(
                select(CohortMember.cohort_id).where(CohortMember.user_id == user.id)
            )
        ).all()
    )
    cohorts += list(
        (
            await session.scalars(
                select(CohortFacilitator.cohort_id).where(CohortFacilitator.user_id == user.id)
            )
        ).all()
    )
    if cohorts:
        room_ids = await session.scalars(
            select(CohortSession.room_id).where(CohortSession.cohort_id.in_(cohorts))
        )
        for room_id in room_ids.all():
            await rooms.dismiss(session, room_id, user.id)
    await session.execute(delete(CohortMember).where(CohortMember.user_id == user.id))
    await session.execute(delete(CohortFacilitator).where(CohortFacilitator.user_id == user.id))
    await session.execute(delete(CohortTransfer).where(CohortTransfer.user_id == user.id))
    await session.execute(
        update(CohortTransfer).where(CohortTransfer.by_id == user.id).values(by_id=None)
    )
    await session.execute(
        delete(CohortInvitation).where(func.lower(CohortInvitation.email) == user.email.lower())
    )
    await session.execute(delete(CohortCodeAttempt).where(CohortCodeAttempt.user_id == user.id))
    await session.execute(
        update(CohortAnnouncement)
        .where(CohortAnnouncement.author_id == user.id)
        .values(author_id=None)
    )
    await session.flush()


def register(registry: PersonalData) -> None:
    """Add the cohorts section to the app's personal-data registry."""
    registry.contributes("cohorts", export=export_cohorts, erase=erase_cohorts)
