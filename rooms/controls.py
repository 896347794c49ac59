"""Classroom controls: hands, reactions, muting, removal, roles, spotlight, settings, lobby."""

from __future__ import annotations

import uuid

from rooms.dispatch import Context, Outcome
from rooms.errors import Rejected, forbidden, not_found
from rooms.messages import (
    HandLower,
    HandRaise,
    LobbyAdmit,
    LobbyDeny,
    ParticipantAskUnmute,
    ParticipantMute,
    ParticipantRemove,
    ParticipantSetRole,
    ReactionSend,
    RoomEnd,
    RoomMuteAll,
    RoomSettings,
    RoomSpotlight,
)
from rooms.roles import ASSIGNABLE_BY, Grant, RoomRole, is_host
from rooms.state import Event, RoomState


def _present(ctx: Context, user_id: uuid.UUID) -> str:
    target = str(user_id)
    if target not in ctx.state.participants:
        raise not_found("participant")
    return target


def _outranks(ctx: Context, target: str) -> None:
    """Co-hosts act on participants, not on hosts; nobody acts on the room's host."""
    actor_role = ctx.state.role_of(ctx.actor.user_id)
    target_role = ctx.state.role_of(target)
    if target_role == RoomRole.HOST and actor_role != RoomRole.HOST:
        raise forbidden("act on the host")


def raise_hand(ctx: Context, _message: HandRaise) -> Outcome:
    """Join the end of the hands queue (first come, first served)."""
    if any(h["user_id"] == ctx.actor.user_id for h in ctx.state.hands):
        return Outcome(reply={"position": _position(ctx.state, ctx.actor.user_id)})
    return Outcome(events=[ctx.event("hand.raised", user_id=ctx.actor.user_id)])


def _position(state: RoomState, user_id: str) -> int:
    return next(i for i, h in enumerate(state.hands, 1) if h["user_id"] == user_id)


def lower_hand(ctx: Context, message: HandLower) -> Outcome:
    """Lower one's own hand; moderators lower anyone's."""
    target = str(message.user_id) if message.user_id else ctx.actor.user_id
    if target != ctx.actor.user_id and Grant.MODERATE not in ctx.state.grants(ctx.actor.user_id):
        raise forbidden("lower other people's hands")
    if not any(h["user_id"] == target for h in ctx.state.hands):
        return Outcome()
    return Outcome(events=[ctx.event("hand.lowered", user_id=target)])


def reaction(ctx: Context, message: ReactionSend) -> Outcome:
    """A floating emoji for everyone; not stored."""
    return Outcome(
        volatile=[{"type": "reaction", "user_id": ctx.actor.user_id, "emoji": message.emoji}]
    )


def mute(ctx: Context, message: ParticipantMute) -> Outcome:
    """Turn a participant's microphone off (media stops server-side once the SFU lands)."""
    target = _present(ctx, message.user_id)
    _outranks(ctx, target)
    return Outcome(events=[ctx.event("participant.muted", user_id=target)])


def mute_all(ctx: Context, _message: RoomMuteAll) -> Outcome:
    """Mute everyone who does not run the room."""
    return Outcome(events=[ctx.event("room.muted_all")])


def ask_unmute(ctx: Context, message: ParticipantAskUnmute) -> Outcome:
    """Ask a participant to turn their microphone on; only they are told."""
    target = _present(ctx, message.user_id)
    event = ctx.event("participant.unmute_requested", user_id=target)
    event["audience"] = {"users": [target, ctx.actor.user_id]}
    return Outcome(events=[event])


def remove(ctx: Context, message: ParticipantRemove) -> Outcome:
    """Remove a participant (and optionally ban them from this room)."""
    target = _present(ctx, message.user_id)
    if target == ctx.actor.user_id:
        raise Rejected("invalid", "You cannot remove yourself; leave instead.")
    _outranks(ctx, target)
    return Outcome(events=[ctx.event("participant.removed", user_id=target, ban=message.ban)])


def set_role(ctx: Context, message: ParticipantSetRole) -> Outcome:
    """Promote or demote a participant within what the actor's own role may assign."""
    target = _present(ctx, message.user_id)
    actor_role = ctx.state.role_of(ctx.actor.user_id)
    assignable = ASSIGNABLE_BY.get(actor_role) if actor_role else None
    if not assignable or message.role not in assignable:
        raise forbidden(f"make people {message.role.value}")
    _outranks(ctx, target)
    leaves_no_host = not any(u != target for u in ctx.state.hosts())
    if target == ctx.actor.user_id and message.role != actor_role and leaves_no_host:
        raise Rejected("invalid", "The room needs a host: promote someone else first.")
    return Outcome(events=[ctx.event("participant.role", user_id=target, role=message.role.value)])


def spotlight(ctx: Context, message: RoomSpotlight) -> Outcome:
    """Pin one participant for everyone (or clear the spotlight)."""
    target = _present(ctx, message.user_id) if message.user_id else None
    return Outcome(events=[ctx.event("room.spotlight", user_id=target)])


def settings(ctx: Context, message: RoomSettings) -> Outcome:
    """Lock the room, toggle the lobby, chat, slow mode and document locks."""
    changes = message.model_dump(exclude={"type", "ref"}, exclude_none=True)
    changes = {k: v for k, v in changes.items() if ctx.state.settings.get(k) != v}
    if not changes:
        return Outcome()
    events = [ctx.event("room.settings", changes=changes)]
    if changes.get("lobby") is False:  # turning the lobby off lets everyone waiting in
        for user_id in ctx.state.lobby:
            admitted = ctx.event("lobby.admitted", user_id=user_id)
            admitted["audience"] = {"users": [user_id], "hosts": True}
            events.append(admitted)
    return Outcome(events=events)


def admit(ctx: Context, message: LobbyAdmit) -> Outcome:
    """Let someone waiting in the lobby in."""
    target = str(message.user_id)
    if target not in ctx.state.lobby:
        raise not_found("person in the lobby")
    event = ctx.event("lobby.admitted", user_id=target)
    event["audience"] = {"users": [target], "hosts": True}
    return Outcome(events=[event])


def deny(ctx: Context, message: LobbyDeny) -> Outcome:
    """Turn someone waiting in the lobby away."""
    target = str(message.user_id)
    if target not in ctx.state.lobby:
        raise not_found("person in the lobby")
    event = ctx.event("lobby.denied", user_id=target)
    event["audience"] = {"users": [target], "hosts": True}
    return Outcome(events=[event])


def end(ctx: Context, _message: RoomEnd) -> Outcome:
    """End the class for everyone; every connection closes with 'room ended'."""
    return Outcome(events=[ctx.event("room.ended")])


def on_raised(state: RoomState, event: Event) -> None:
    if not any(h["user_id"] == event["user_id"] for h in state.hands):
        state.hands.append({"user_id": event["user_id"], "at": event["at"]})


def on_lowered(state: RoomState, event: Event) -> None:
    state.hands[:] = [h for h in state.hands if h["user_id"] != event["user_id"]]


def on_muted(state: RoomState, event: Event) -> None:
    if found := state.participants.get(event["user_id"]):
        found.mic = False


def on_muted_all(state: RoomState, _event: Event) -> None:
    for found in state.participants.values():
        if not is_host(found.role):
            found.mic = False


def on_removed(state: RoomState, event: Event) -> None:
    user_id = event["user_id"]
    state.participants.pop(user_id, None)
    state.hands[:] = [h for h in state.hands if h["user_id"] != user_id]
    state.seen.discard(user_id)
    state.admitted.discard(user_id)
    if event.get("ban"):
        state.banned.add(user_id)
    if state.spotlight == user_id:
        state.spotlight = None


def on_unbanned(state: RoomState, event: Event) -> None:
    state.banned.discard(event["user_id"])


def on_role(state: RoomState, event: Event) -> None:
    if found := state.participants.get(event["user_id"]):
        found.role = RoomRole(event["role"])


def on_spotlight(state: RoomState, event: Event) -> None:
    state.spotlight = event["user_id"]


def on_settings(state: RoomState, event: Event) -> None:
    state.settings.update(event["changes"])


def on_ended(state: RoomState, _event: Event) -> None:
    state.status = "ended"
    state.closing = None
    state.hands.clear()
    state.lobby.clear()


def on_closing(state: RoomState, event: Event) -> None:
    state.closing = {"closes_at": event["closes_at"], "reason": event["reason"]}


def on_renamed(state: RoomState, event: Event) -> None:
    state.title = event["title"]
