"""Seats and the waitlist: registering, cancelling, promotion and its confirmation.

Every change starts by locking the workshop's row (an UPDATE on PostgreSQL, the write
lock taken at BEGIN on SQLite), so seat counts and arrival numbers change one transaction
at a time: 200 people registering for 30 seats at once end with exactly 30 seated and the
rest waitlisted in the order the database saw them. A freed seat is offered to the first
in the waitlist, who is notified and must confirm before ``confirm_minutes`` pass (the
``expire_offer`` job then tells them the offer lapsed and offers the seat to the next).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.queue import enqueue
from jobs.types import JobContext, JobType
from lms.errors import Conflict, Forbidden, NotFound
from lms.notifications.categories import WORKSHOPS
from lms.notifications.service import notify
from persistence.models import Workshop, WorkshopRegistration
from persistence.models.base import utcnow

SEATED = ("registered", "offered")
ACTIVE = ("registered", "offered", "waitlisted")


LOCK_WORKSHOP = (
    select(Workshop)
    .where(Workshop.id == bindparam("workshop_id"))
    .with_for_update(key_share=True)
    .execution_options(populate_existing=True)
)
"""``lock_workshop``'s statement, built once (every seat change runs it)."""
REGISTRATION_OF = (
    select(WorkshopRegistration)
    .where(
        WorkshopRegistration.workshop_id == bindparam("workshop_id"),
        WorkshopRegistration.user_id == bindparam("user_id"),
    )
    .execution_options(populate_existing=True)
)
"""``_registration_of``'s statement, built once."""


async def lock_workshop(session: AsyncSession, workshop_id: uuid.UUID) -> Workshop:
    """The workshop, its row locked for this transaction and read fresh, in one statement
    (``FOR NO KEY UPDATE`` on PostgreSQL, the lock an UPDATE takes; SQLite's writer holds
    the database's write lock from BEGIN); 404 if none."""
    found = (
        await session.execute(LOCK_WORKSHOP, {"workshop_id": workshop_id})
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("No such workshop.")
    return found


async def register(
    session: AsyncSession,
    workshop_id: uuid.UUID,
    user_id: uuid.UUID,
    now: datetime,
    *,
    sold: bool = False,
) -> WorkshopRegistration:
    """Take a seat, or a place in the waitlist; 409 when closed, cancelled or full. A
    ``sold`` workshop's seats are bought (409 ``paid`` while one is left); only its
    waitlist is joined here, and a seat offered from it is paid for (lms/payments)."""
    workshop = await lock_workshop(session, workshop_id)
    if workshop.status != "scheduled":
        raise Conflict("This workshop was cancelled.", reason="cancelled")
    if now >= workshop.first_start:
        raise Conflict("Registration closed when the workshop started.", reason="closed")
    mine = await _registration_of(session, workshop.id, user_id)
    if mine is not None and mine.status in ACTIVE:
        raise Conflict("You are already registered or waitlisted.", reason="duplicate")
    seated = workshop.seats_taken < workshop.capacity
    if seated and sold:
        raise Conflict("This workshop's seats are sold: buy one.", reason="paid")
    if not seated:
        waiting = (
            await session.execute(
                select(func.count()).where(
                    WorkshopRegistration.workshop_id == workshop.id,
                    WorkshopRegistration.status == "waitlisted",
                )
            )
        ).scalar_one()
        if waiting >= workshop.waitlist_capacity:
            raise Conflict("This workshop and its waitlist are full.", reason="full")
    workshop.arrivals += 1
    if seated:
        workshop.seats_taken += 1
    status = "registered" if seated else "waitlisted"
    if mine is None:
        mine = WorkshopRegistration(workshop_id=workshop.id, user_id=user_id)
        session.add(mine)
    mine.status, mine.arrival, mine.offered_until = status, workshop.arrivals, None
    mine.created_at = mine.updated_at = now
    await session.flush()
    return mine


async def _registration_of(
    session: AsyncSession, workshop_id: uuid.UUID, user_id: uuid.UUID
) -> WorkshopRegistration | None:
    return (
        await session.execute(REGISTRATION_OF, {"workshop_id": workshop_id, "user_id": user_id})
    ).scalar_one_or_none()


async def own_registration(
    session: AsyncSession, registration_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Workshop, WorkshopRegistration]:
    """The caller's registration with its workshop locked; someone else's is a 404."""
    found = await session.get(WorkshopRegistration, registration_id)
    if found is None or found.user_id != user_id:
        raise NotFound("No such registration.")
    workshop = await lock_workshop(session, found.workshop_id)
    await session.refresh(found)
    return workshop, found


async def cancel(
    session: AsyncSession, registration_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> WorkshopRegistration:
    """Leave the workshop (a seat before the cancellation deadline; the waitlist at any
    time); a freed seat is offered to the first in the waitlist."""
    workshop, mine = await own_registration(session, registration_id, user_id)
    if mine.status not in ACTIVE:
        raise Conflict("This registration is not active.", reason="inactive")
    deadline = workshop.first_start - timedelta(minutes=workshop.cancel_cutoff_minutes)
    if mine.status in SEATED and now >= deadline:
        raise Conflict(
            "The cancellation deadline has passed.",
            reason="deadline",
            deadline=deadline.isoformat(),
        )
    held_seat = mine.status in SEATED
    mine.status, mine.offered_until, mine.updated_at = "cancelled", None, now
    if held_seat:
        await free_seat(session, workshop, now)
    await session.flush()
    return mine


async def free_seat(session: AsyncSession, workshop: Workshop, now: datetime) -> None:
    """A seat came free: offer it to the first in the waitlist, or give it back."""
    nxt = (
        await session.execute(
            select(WorkshopRegistration)
            .where(
                WorkshopRegistration.workshop_id == workshop.id,
                WorkshopRegistration.status == "waitlisted",
            )
            .order_by(WorkshopRegistration.arrival)
            .limit(1)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if nxt is None or workshop.status != "scheduled" or now >= workshop.first_start:
        workshop.seats_taken -= 1
        return
    # An offer never outlives the workshop's start: a seat confirmed after it would be
    # a seat in a session already under way (or a checkout paid for one).
    until = min(now + timedelta(minutes=workshop.confirm_minutes), workshop.first_start)
    nxt.status, nxt.offered_until, nxt.updated_at = "offered", until, now
    await enqueue(session, EXPIRE_OFFER, {"registration_id": str(nxt.id)}, run_at=until)
    await notify(
        session,
        nxt.user_id,
        WORKSHOPS.name,
        f"A seat is free in {workshop.title}",
        f"Confirm your seat before {until:%Y-%m-%d %H:%M} UTC (pay for it there if the"
        " workshop's seats are sold), or it goes to the next person.",
        f"/workshops/{workshop.id}",
        key=f"workshop-offer:{nxt.id}:{until.isoformat()}",
    )


async def confirm(
    session: AsyncSession,
    registration_id: uuid.UUID,
    user_id: uuid.UUID,
    now: datetime,
    *,
    sold: bool = False,
) -> WorkshopRegistration:
    """Take the seat offered; 409 when no seat is offered or the offer lapsed. A seat in
    a ``sold`` workshop is not taken free: 409 ``payment_required`` (the offer holds it
    for the learner's checkout until ``offered_until``)."""
    workshop, mine = await own_registration(session, registration_id, user_id)
    if mine.status != "offered" or mine.offered_until is None:
        raise Conflict("No seat is offered to you.", reason="not_offered")
    if now >= mine.offered_until:
        await _lapse(session, workshop, mine, now)
        raise Conflict("The offer lapsed; the seat went to the next person.", reason="lapsed")
    if sold:
        raise Conflict(
            "This seat is sold: pay for it before the offer lapses.",
            reason="payment_required",
            workshop_id=str(workshop.id),
            offered_until=mine.offered_until.isoformat(),
        )
    mine.status, mine.offered_until, mine.updated_at = "registered", None, now
    await session.flush()
    return mine


async def _lapse(
    session: AsyncSession, workshop: Workshop, offer: WorkshopRegistration, now: datetime
) -> None:
    offer.status, offer.offered_until, offer.updated_at = "expired", None, now
    await notify(
        session,
        offer.user_id,
        WORKSHOPS.name,
        f"Your seat offer in {workshop.title} lapsed",
        "The seat was not confirmed in time and went to the next person in the waitlist.",
        f"/workshops/{workshop.id}",
        key=f"workshop-lapsed:{offer.id}:{now.isoformat()}",
    )
    await free_seat(session, workshop, now)
    await session.commit()


async def expire_offer(session: AsyncSession, registration_id: uuid.UUID) -> None:
    """The job: an offer still unconfirmed past its time lapses and moves on."""
    offer = await session.get(WorkshopRegistration, registration_id)
    if offer is None:
        return
    workshop = await lock_workshop(session, offer.workshop_id)
    await session.refresh(offer)
    now = utcnow()
    if offer.status == "offered" and offer.offered_until and now >= offer.offered_until:
        await _lapse(session, workshop, offer, now)


async def _expire_offer_job(ctx: JobContext) -> None:
    async with ctx.sessions() as session:
        await expire_offer(session, uuid.UUID(str(ctx.args["registration_id"])))
        await session.commit()


EXPIRE_OFFER = JobType(
    "workshops.expire_offer",
    _expire_offer_job,
    max_attempts=5,
    timeout=60.0,
    summary="give a seat nobody confirmed in time to the next in the waitlist",
)


def check_organiser(workshop: Workshop, user_id: uuid.UUID, role: str) -> None:
    """Only the organiser (or an admin) manages a workshop."""
    if role != "admin" and workshop.organiser_id != user_id:
        raise Forbidden("Only the workshop's organiser may do this.")


# ---------------------------------------------------------------- paid seats (lms/payments)


async def hold_seat(session: AsyncSession, workshop_id: uuid.UUID, now: datetime) -> None:
    """Hold one seat for a buyer while they pay (counted in ``seats_taken``, nobody's
    registration yet); 409 when the workshop is closed, cancelled or has no seat left.

    One conditional UPDATE: the workshop's row is locked from it to the caller's commit
    only, so a caller that holds the seat last (lms/payments/orders.py) keeps 200 buyers at
    once queueing on that row for one statement and a commit each. Objects of the session
    are not refreshed: read the workshop again (``lock_workshop``) to see the new count."""
    held = await session.execute(
        update(Workshop)
        .where(
            Workshop.id == workshop_id,
            Workshop.status == "scheduled",
            Workshop.first_start > now,
            Workshop.seats_taken < Workshop.capacity,
        )
        .values(seats_taken=Workshop.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(held, "rowcount", 0) == 1:
        return
    workshop = await session.get(Workshop, workshop_id, populate_existing=True)
    if workshop is None:
        raise NotFound("No such workshop.")
    _refuse_hold(workshop, now)
    raise Conflict("No seat is left in this workshop.", reason="full")


def _refuse_hold(workshop: Workshop, now: datetime) -> None:
    """409 when no seat of ``workshop`` can be held now (cancelled, started or full)."""
    refused = hold_refusal(
        workshop.status, workshop.first_start, workshop.seats_taken, workshop.capacity, now
    )
    if refused is not None:
        raise refused


def hold_refusal(
    status: str, first_start: datetime, seats_taken: int, capacity: int, now: datetime
) -> Conflict | None:
    """The 409 ``hold_seat`` would answer for a workshop in this state (cancelled, started
    or full), or None; from columns, for a caller that read them without the row."""
    if status != "scheduled":
        return Conflict("This workshop was cancelled.", reason="cancelled")
    if now >= first_start:
        return Conflict("Registration closed when the workshop started.", reason="closed")
    if seats_taken >= capacity:
        return Conflict("No seat is left in this workshop.", reason="full")
    return None


async def look_before_holding(
    session: AsyncSession, workshop_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> datetime | None:
    """What ``hold_for`` would find, read without locking: the deadline of a seat offered to
    ``user_id`` (hold it with ``hold_for``), or None once a seat is seen left at this moment
    (409 as ``hold_seat`` otherwise). The buyers who lost a race for the last seats are
    refused here, without queueing for the workshop's row."""
    workshop = await session.get(Workshop, workshop_id)
    if workshop is None:
        raise NotFound("No such workshop.")
    mine = await _registration_of(session, workshop.id, user_id)
    until = mine.offered_until if mine is not None and mine.status == "offered" else None
    if until is not None and now < until and workshop.status == "scheduled":
        return until
    _refuse_hold(workshop, now)
    return None


async def hold_for(
    session: AsyncSession, workshop_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> datetime | None:
    """Hold a seat for ``user_id``'s checkout: a seat offered to them from the waitlist
    is that seat (already counted; the deadline of the offer is returned, the checkout
    must end by then), otherwise one is held as ``hold_seat`` does (None returned)."""
    workshop = await lock_workshop(session, workshop_id)
    mine = await _registration_of(session, workshop.id, user_id)
    until = mine.offered_until if mine is not None and mine.status == "offered" else None
    if until is not None and now < until and workshop.status == "scheduled":
        return until
    await hold_seat(session, workshop_id, now)
    return None


async def take_offer(
    session: AsyncSession, workshop_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> bool:
    """A paid checkout of a seat offered to ``user_id`` succeeded: the offer becomes
    their registration. False when it is no longer offered (it lapsed meanwhile)."""
    workshop = await lock_workshop(session, workshop_id)
    mine = await _registration_of(session, workshop.id, user_id)
    if mine is None or mine.status != "offered" or workshop.status != "scheduled":
        return False
    mine.status, mine.offered_until, mine.updated_at = "registered", None, now
    await session.flush()
    return True


async def release_held_seat(session: AsyncSession, workshop_id: uuid.UUID, now: datetime) -> None:
    """A held seat was not paid for: it goes to the first in the waitlist, or back."""
    workshop = await lock_workshop(session, workshop_id)
    if workshop.status == "scheduled":
        await free_seat(session, workshop, now)
    await session.flush()


async def seat_held(
    session: AsyncSession, workshop_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> WorkshopRegistration:
    """Turn a held (paid) seat into ``user_id``'s registration; one already seated keeps
    theirs and the held seat goes back."""
    workshop = await lock_workshop(session, workshop_id)
    mine = await _registration_of(session, workshop.id, user_id)
    if mine is not None and mine.status in SEATED:
        await free_seat(session, workshop, now)
        return mine
    workshop.arrivals += 1
    if mine is None:
        mine = WorkshopRegistration(workshop_id=workshop.id, user_id=user_id)
        session.add(mine)
        mine.created_at = now
    mine.status, mine.arrival, mine.offered_until, mine.updated_at = (
        "registered",
        workshop.arrivals,
        None,
        now,
    )
    await session.flush()
    return mine


async def withdraw_seat(
    session: AsyncSession, workshop_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> bool:
    """Take ``user_id``'s seat back (a refunded purchase), whatever the cancellation
    deadline; the seat goes to the waitlist. Whether there was a seat to take."""
    workshop = await lock_workshop(session, workshop_id)
    mine = await _registration_of(session, workshop.id, user_id)
    if mine is None or mine.status not in ACTIVE:
        return False
    held_seat = mine.status in SEATED
    mine.status, mine.offered_until, mine.updated_at = "cancelled", None, now
    if held_seat and workshop.status == "scheduled":
        await free_seat(session, workshop, now)
    await session.flush()
    return held_seat
