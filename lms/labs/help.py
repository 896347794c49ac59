"""The help queue: a learner asks for help on a step (one request open at a time, and a cap
per hour: flooding is refused with 409/429), instructors take requests first come first
(taking assigns it to the taker), and resolve them; the learner sees their place live (the
`queue` signal carries the open requests' ids in order)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.errors import Conflict, Forbidden, InvalidInput, NotFound
from lms.labs.errors import HelpAlreadyOpen, HelpFlood
from lms.labs.schemas import HelpOut
from lms.labs.service import note_activity, workspace_of
from lms.labs.state import open_queue
from persistence.models import Lab, LabHelpRequest, User

PER_HOUR = 12
"""Help requests one learner may make in a lab within an hour."""
ACTIVE = ("open", "taken")


async def ask(
    session: AsyncSession,
    lab: Lab,
    user_id: uuid.UUID,
    step_id: str | None,
    note: str,
    now: datetime,
) -> LabHelpRequest:
    """A new open request, or HelpAlreadyOpen / HelpFlood."""
    if step_id is not None and step_id not in {str(s["id"]) for s in lab.steps}:
        raise InvalidInput("The lab has no such step.")
    if await workspace_of(session, lab.id, user_id) is None:
        raise Conflict("Open your workspace before asking for help.")
    # The activity's UPDATE of the workspace row comes first: it serialises the learner's
    # concurrent requests, so two at once cannot both find none open.
    await note_activity(session, lab.id, user_id, "asked_help", now, step_id=step_id)
    mine = select(LabHelpRequest).where(
        LabHelpRequest.lab_id == lab.id, LabHelpRequest.user_id == user_id
    )
    current = (await session.scalars(mine.where(LabHelpRequest.status.in_(ACTIVE)))).first()
    if current is not None:
        raise HelpAlreadyOpen(
            "You already have a help request waiting; it keeps your place.",
            help_request_id=current.id,
        )
    recent = await session.scalar(
        select(func.count()).where(
            LabHelpRequest.lab_id == lab.id,
            LabHelpRequest.user_id == user_id,
            LabHelpRequest.created_at > now - timedelta(hours=1),
        )
    )
    if (recent or 0) >= PER_HOUR:
        raise HelpFlood(
            f"At most {PER_HOUR} help requests an hour; try again later.", retry_after=600
        )
    request = LabHelpRequest(
        lab_id=lab.id, user_id=user_id, step_id=step_id, note=note, status="open", created_at=now
    )
    session.add(request)
    await session.flush()
    return request


async def request_of(session: AsyncSession, lab: Lab, request_id: int) -> LabHelpRequest:
    """A request of this lab, or 404."""
    if not 0 < request_id < 2**62:
        raise NotFound("No such help request.")
    found = await session.get(LabHelpRequest, request_id)
    if found is None or found.lab_id != lab.id:
        raise NotFound("No such help request.")
    return found


async def take(
    session: AsyncSession, lab: Lab, request: LabHelpRequest | None, by: uuid.UUID, now: datetime
) -> LabHelpRequest:
    """Assign a request to ``by`` (None: the oldest open one)."""
    if request is None:
        query = (
            select(LabHelpRequest)
            .where(LabHelpRequest.lab_id == lab.id, LabHelpRequest.status == "open")
            .order_by(LabHelpRequest.id)
            .limit(1)
            .with_for_update()
        )
        request = (await session.scalars(query)).first()
        if request is None:
            raise NotFound("Nobody is waiting for help.")
    if request.status == "resolved":
        raise Conflict("This request is already resolved.")
    if request.status == "taken" and request.taken_by != by:
        raise Conflict("Someone else is already answering this request.")
    request.status, request.taken_by, request.taken_at = "taken", by, now
    await note_activity(session, lab.id, request.user_id, "helped", now, request_id=request.id)
    return request


def resolve(request: LabHelpRequest, by: uuid.UUID, *, staff: bool, now: datetime) -> None:
    """Close a request: its learner (withdrawing it) or the course's staff."""
    if not staff and request.user_id != by:
        raise Forbidden("This is not your help request.")
    if request.status != "resolved":
        request.status, request.resolved_at = "resolved", now


async def out(session: AsyncSession, request: LabHelpRequest) -> HelpOut:
    """A request with its learner's name and place in the queue."""
    name = await session.scalar(select(User.name).where(User.id == request.user_id))
    position = None
    if request.status == "open":
        queue = await open_queue(session, request.lab_id)
        position = queue.index(request.id) + 1 if request.id in queue else None
    return HelpOut(
        id=request.id,
        lab_id=request.lab_id,
        user_id=request.user_id,
        name=name or "",
        step_id=request.step_id,
        note=request.note,
        status=request.status,
        taken_by=request.taken_by,
        created_at=request.created_at,
        taken_at=request.taken_at,
        resolved_at=request.resolved_at,
        position=position,
    )


async def mine(session: AsyncSession, lab: Lab, user_id: uuid.UUID) -> LabHelpRequest | None:
    """The learner's active request, if any."""
    query = select(LabHelpRequest).where(
        LabHelpRequest.lab_id == lab.id,
        LabHelpRequest.user_id == user_id,
        LabHelpRequest.status.in_(ACTIVE),
    )
    return (await session.scalars(query)).first()


async def listing(
    session: AsyncSession, lab: Lab, *, status: str | None, after: int | None, limit: int
) -> list[LabHelpRequest]:
    """The lab's requests in arrival order (``status``: only those)."""
    query = select(LabHelpRequest).where(LabHelpRequest.lab_id == lab.id)
    if status is not None:
        query = query.where(LabHelpRequest.status == status)
    if after is not None:
        query = query.where(LabHelpRequest.id > after)
    query = query.order_by(LabHelpRequest.id).limit(limit + 1)
    return list((await session.scalars(query)).all())
