"""Breakout rooms: create N, assign by hand or automatically, open with a timer, close."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rooms.dispatch import Context, Outcome
from rooms.errors import Rejected, not_found
from rooms.messages import (
    BreakoutAssign,
    BreakoutBroadcast,
    BreakoutClose,
    BreakoutCreate,
    BreakoutOpen,
)
from rooms.roles import is_host
from rooms.state import Event, RoomState


def _active(state: RoomState) -> dict[str, Any]:
    if not state.breakouts or state.breakouts["status"] == "closed":
        raise Rejected("no-breakouts", "There are no breakout rooms; create them first.")
    return state.breakouts


def _auto_assign(state: RoomState, fixed: dict[str, int], count: int) -> dict[str, int]:
    """Spread everyone not running the room and not placed by hand, in joining order."""
    assignments = dict(fixed)
    free = [
        p.user_id
        for p in state.participants.values()
        if not is_host(p.role) and p.user_id not in assignments
    ]
    sizes = [list(assignments.values()).count(i) for i in range(count)]
    for user_id in free:
        index = sizes.index(min(sizes))
        assignments[user_id] = index
        sizes[index] += 1
    return assignments


def create(ctx: Context, message: BreakoutCreate) -> Outcome:
    """Create ``count`` breakout rooms (not yet open) with their assignments."""
    if ctx.state.parent_id is not None:
        raise Rejected("invalid", "Breakout rooms cannot have breakout rooms.")
    if ctx.state.breakouts and ctx.state.breakouts["status"] != "closed":
        raise Rejected("breakouts-active", "Close the current breakout rooms first.")
    names = list(message.names or [])
    names += [f"Room {i + 1}" for i in range(len(names), message.count)]
    fixed = {str(u): i for u, i in message.assignments.items() if i < message.count}
    assignments = _auto_assign(ctx.state, fixed, message.count) if message.auto else fixed
    rooms = [{"id": ctx.new_id(), "name": names[i]} for i in range(message.count)]
    event = ctx.event("breakout.created", rooms=rooms, assignments=assignments)
    return Outcome(events=[event], reply={"rooms": rooms})


def assign(ctx: Context, message: BreakoutAssign) -> Outcome:
    """Put one person in one breakout room (moving them if already placed)."""
    breakouts = _active(ctx.state)
    if message.index >= len(breakouts["rooms"]):
        raise not_found("breakout room")
    return Outcome(
        events=[ctx.event("breakout.assigned", user_id=str(message.user_id), index=message.index)]
    )


def open_rooms(ctx: Context, message: BreakoutOpen) -> Outcome:
    """Open the breakout rooms, optionally with a timer after which they close."""
    breakouts = _active(ctx.state)
    if breakouts["status"] == "open":
        return Outcome()
    ends = (
        ctx.now + timedelta(seconds=message.duration_seconds) if message.duration_seconds else None
    )
    return Outcome(
        events=[ctx.event("breakout.opened", ends_at=ends.isoformat() if ends else None)]
    )


def broadcast(ctx: Context, message: BreakoutBroadcast) -> Outcome:
    """Send one message to the main room and every breakout room."""
    breakouts = _active(ctx.state)
    event = ctx.event("breakout.broadcast", text=message.text, name=ctx.actor.name)
    return Outcome(
        events=[event], elsewhere=[(room["id"], dict(event)) for room in breakouts["rooms"]]
    )


def close(ctx: Context, _message: BreakoutClose) -> Outcome:
    """Close every breakout room and bring everyone back."""
    breakouts = _active(ctx.state)
    return Outcome(
        events=[ctx.event("breakout.closed")],
        elsewhere=closing(breakouts, ctx.at, by=ctx.actor.user_id),
    )


def closing(
    breakouts: dict[str, Any], at: str, *, by: str | None = None
) -> list[tuple[str, Event]]:
    """The events that end each breakout room and send its people back (None: the timer)."""
    return [
        (room["id"], {"type": "breakout.closed", "at": at, "by": by, "parent": True})
        for room in breakouts["rooms"]
    ]


def on_created(state: RoomState, event: Event) -> None:
    state.breakouts = {
        "status": "created",
        "rooms": list(event["rooms"]),
        "assignments": dict(event["assignments"]),
        "ends_at": None,
    }


def on_assigned(state: RoomState, event: Event) -> None:
    if state.breakouts:
        state.breakouts["assignments"][event["user_id"]] = event["index"]


def on_opened(state: RoomState, event: Event) -> None:
    if state.breakouts:
        state.breakouts["status"] = "open"
        state.breakouts["ends_at"] = event["ends_at"]


def on_closed(state: RoomState, event: Event) -> None:
    if event.get("parent"):
        state.status = "ended"  # this is a breakout room: it is over
    elif state.breakouts:
        state.breakouts["status"] = "closed"
