"""Presence: connections coming and going, status (camera, mic, away), the lobby."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rooms.dispatch import Context, Outcome
from rooms.messages import StatusSet
from rooms.roles import RoomRole
from rooms.state import Event, Participant, RoomState

STATUS_FIELDS = ("camera", "mic", "screen", "away")
HOSTS_ONLY = {"hosts": True}


def connected(
    state: RoomState,
    *,
    user_id: str,
    name: str,
    role: RoomRole,
    conn_id: str,
    node: str,
    now: datetime,
) -> Event:
    """The event announcing a new connection; ``first`` marks the user's arrival."""
    return {
        "type": "presence.connected",
        "at": now.isoformat(),
        "by": user_id,
        "user": {"user_id": user_id, "name": name, "role": role.value},
        "conn_id": conn_id,
        "node": node,
        "first": user_id not in state.participants,
    }


def disconnected(state: RoomState, *, user_id: str, conn_id: str, now: datetime) -> Event:
    """The event for a closed connection; ``last`` marks the user leaving the room."""
    found = state.participants.get(user_id)
    remaining = set(found.connections) - {conn_id} if found else set()
    return {
        "type": "presence.disconnected",
        "at": now.isoformat(),
        "by": user_id,
        "user_id": user_id,
        "conn_id": conn_id,
        "last": not remaining,
    }


def lobby_waiting(*, user_id: str, name: str, conn_id: str, now: datetime) -> Event:
    """Someone is waiting to be let in; only hosts hear of it."""
    return {
        "type": "lobby.waiting",
        "at": now.isoformat(),
        "user": {"user_id": user_id, "name": name, "since": now.isoformat()},
        "conn_id": conn_id,
        "audience": HOSTS_ONLY,
    }


def lobby_left(*, user_id: str, conn_id: str, now: datetime) -> Event:
    """A waiting person gave up (closed the page)."""
    return {
        "type": "lobby.left",
        "at": now.isoformat(),
        "user_id": user_id,
        "conn_id": conn_id,
        "audience": HOSTS_ONLY,
    }


def on_connected(state: RoomState, event: Event) -> None:
    user: dict[str, Any] = event["user"]
    user_id = user["user_id"]
    found = state.participants.get(user_id)
    if found is None:
        found = state.participants[user_id] = Participant(
            user_id=user_id,
            name=user["name"],
            role=RoomRole(user["role"]),
            joined_at=event["at"],
        )
    found.connections[event["conn_id"]] = event.get("node", "")
    state.seen.add(user_id)
    state.lobby.pop(user_id, None)


def on_disconnected(state: RoomState, event: Event) -> None:
    user_id = event["user_id"]
    found = state.participants.get(user_id)
    if found is None:
        return
    found.connections.pop(event["conn_id"], None)
    if not found.connections:
        del state.participants[user_id]
        state.hands[:] = [h for h in state.hands if h["user_id"] != user_id]


def on_status(state: RoomState, event: Event) -> None:
    found = state.participants.get(event["user_id"])
    if found is None:
        return
    for name in STATUS_FIELDS:
        if isinstance(event.get(name), bool):
            setattr(found, name, event[name])


def on_waiting(state: RoomState, event: Event) -> None:
    state.lobby[event["user"]["user_id"]] = dict(event["user"])


def on_lobby_left(state: RoomState, event: Event) -> None:
    state.lobby.pop(event["user_id"], None)


def on_admitted(state: RoomState, event: Event) -> None:
    state.lobby.pop(event["user_id"], None)
    state.admitted.add(event["user_id"])


def set_status(ctx: Context, message: StatusSet) -> Outcome:
    """Report one's own camera, microphone, screen and away state."""
    changes = {k: v for k in STATUS_FIELDS if (v := getattr(message, k)) is not None}
    if changes.get("screen") and "publish_screen" not in ctx.state.grants(ctx.actor.user_id):
        changes.pop("screen")
    if not changes:
        return Outcome()
    return Outcome(events=[ctx.event("participant.status", user_id=ctx.actor.user_id, **changes)])
