"""What the notifications domain does with other domains' events: a stopped recording
tells the room's hosts that it is ready (category ``recordings``); a webhook endpoint that
its failures disabled tells its owner (category ``system``); grades posted in a gradebook
column tell each learner whose grade was released (category ``grades``).

The node subscribes these consumers at start-up (``consumers()``); each runs in the
transaction that records the event as consumed, and ``notify`` is keyed by the event id, so
a redelivered event notifies nobody twice.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import Consumer, Event
from lms.gradebook.events import GRADES_POSTED, GradesPosted
from lms.notifications import service
from lms.notifications.categories import GRADES, RECORDINGS, SYSTEM
from lms.rooms import access
from lms.webhooks.events import WEBHOOK_ENDPOINT_DISABLED, EndpointDisabled
from rooms.domain_events import RECORDING_STOPPED, RecordingStopped


async def recording_ready(session: AsyncSession, event: Event) -> None:
    """Notify each host of the room that its recording can be watched."""
    payload = event.payload
    assert isinstance(payload, RecordingStopped)
    room, hosts = await access.hosts(session, payload.room_id)
    if room is None:
        return
    minutes = max(1, round((payload.stopped_at - payload.started_at).total_seconds() / 60))
    for user_id in hosts:
        await service.notify(
            session,
            user_id,
            RECORDINGS.name,
            f"Recording ready: {room.title}",
            f"The recording of “{room.title}” ({minutes} min) is ready to watch.",
            f"/rooms/{room.id}/recordings",
            key=f"event:{event.id}",
        )


RECORDING_READY = Consumer(
    "notifications.recording_ready", (RECORDING_STOPPED.name,), recording_ready
)


async def endpoint_disabled(session: AsyncSession, event: Event) -> None:
    """Tell the owner of a webhook endpoint that its failing deliveries disabled it (an
    admin who disabled one by hand knows already)."""
    payload = event.payload
    assert isinstance(payload, EndpointDisabled)
    if not payload.automatic or payload.owner_id is None:
        return
    await service.notify(
        session,
        payload.owner_id,
        SYSTEM.name,
        "Webhook endpoint disabled",
        f"Deliveries to {payload.url} kept failing for a day, so it was disabled: "
        f"{payload.reason} Enable it again on the Webhooks page once it answers.",
        "/admin/webhooks",
        key=f"event:{event.id}",
    )


ENDPOINT_DISABLED = Consumer(
    "notifications.webhook_disabled", (WEBHOOK_ENDPOINT_DISABLED.name,), endpoint_disabled
)


async def grades_posted(session: AsyncSession, event: Event) -> None:
    """Tell each learner whose grade in a column was released that it can be seen (the
    grade itself stays on the site, out of e-mails)."""
    payload = event.payload
    assert isinstance(payload, GradesPosted)
    for user_id in payload.user_ids:
        await service.notify(
            session,
            user_id,
            GRADES.name,
            f"Grade posted: {payload.title}",
            f"Your grade for “{payload.title}” is available.",
            f"/courses/{payload.course_id}/grades",
            key=f"event:{event.id}",
        )


GRADES_RELEASED = Consumer("notifications.grades_posted", (GRADES_POSTED.name,), grades_posted)


def consumers() -> list[Consumer]:
    """The notifications domain's consumers, for the node's catalogue."""
    return [RECORDING_READY, ENDPOINT_DISABLED, GRADES_RELEASED]
