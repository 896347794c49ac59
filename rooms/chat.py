"""Chat: public and private messages, edits, deletion, reactions, typing, slow mode."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from rooms.dispatch import Context, Outcome
from rooms.errors import Rejected, forbidden, not_found
from rooms.messages import ChatDelete, ChatEdit, ChatReact, ChatSend, ChatTyping
from rooms.roles import Grant
from rooms.state import Event, RoomState

MAX_REACTIONS_PER_MESSAGE = 50


def _audience(message: dict[str, Any]) -> dict[str, Any] | None:
    if message.get("to_user_id"):
        return {"users": [message["author_id"], message["to_user_id"]]}
    if message.get("to_hosts"):
        return {"users": [message["author_id"]], "hosts": True}
    return None


def _check_slow_mode(ctx: Context) -> None:
    seconds = int(ctx.state.settings.get("slow_mode_seconds") or 0)
    if not seconds or ctx.state.is_host(ctx.actor.user_id):
        return
    mine = [
        m for m in ctx.state.chat if m["author_id"] == ctx.actor.user_id and not m.get("to_user_id")
    ]
    if mine:
        elapsed = (ctx.now - datetime.fromisoformat(mine[-1]["at"])).total_seconds()
        if elapsed < seconds:
            wait = int(seconds - elapsed) + 1
            raise Rejected("slow-mode", f"Slow mode is on: wait {wait} s before the next message.")


def send(ctx: Context, message: ChatSend) -> Outcome:
    """Post a message to everyone, to one participant, or to the hosts."""
    to_user = str(message.to) if isinstance(message.to, uuid.UUID) else None
    if to_user is not None and to_user not in ctx.state.participants:
        raise not_found("participant")
    if to_user is None:
        _check_slow_mode(ctx)
    entry: dict[str, Any] = {
        "id": ctx.new_id(),
        "author_id": ctx.actor.user_id,
        "author_name": ctx.actor.name,
        "text": message.text,
        "to_user_id": to_user,
        "to_hosts": message.to == "hosts",
        "at": ctx.at,
        "edited_at": None,
        "deleted": False,
        "reactions": {},
    }
    event = ctx.event("chat.message", message=entry)
    if audience := _audience(entry):
        event["audience"] = audience
    return Outcome(events=[event], reply={"message_id": entry["id"]})


def _own_or_moderator(ctx: Context, message_id: uuid.UUID, *, moderator_ok: bool) -> dict[str, Any]:
    found = ctx.state.find_message(str(message_id))
    if found is None or found["deleted"] or not ctx.state.visible(found, ctx.actor.user_id):
        raise not_found("message")
    mine = found["author_id"] == ctx.actor.user_id
    if not mine and not (moderator_ok and Grant.MODERATE in ctx.state.grants(ctx.actor.user_id)):
        raise forbidden("change other people's messages")
    return found


def edit(ctx: Context, message: ChatEdit) -> Outcome:
    """Change the text of one's own message."""
    found = _own_or_moderator(ctx, message.message_id, moderator_ok=False)
    event = ctx.event("chat.edited", message_id=found["id"], text=message.text)
    if audience := _audience(found):
        event["audience"] = audience
    return Outcome(events=[event])


def delete(ctx: Context, message: ChatDelete) -> Outcome:
    """Delete one's own message; moderators may delete anyone's."""
    found = _own_or_moderator(ctx, message.message_id, moderator_ok=True)
    event = ctx.event("chat.deleted", message_id=found["id"])
    if audience := _audience(found):
        event["audience"] = audience
    return Outcome(events=[event])


def react(ctx: Context, message: ChatReact) -> Outcome:
    """Add or remove an emoji reaction on a message one can see."""
    found = ctx.state.find_message(str(message.message_id))
    if found is None or found["deleted"] or not ctx.state.visible(found, ctx.actor.user_id):
        raise not_found("message")
    reacted = ctx.actor.user_id in found["reactions"].get(message.emoji, [])
    if reacted == message.add:
        return Outcome()
    if message.add and len(found["reactions"]) >= MAX_REACTIONS_PER_MESSAGE:
        raise Rejected("too-many-reactions", "This message has too many different reactions.")
    event = ctx.event("chat.reaction", message_id=found["id"], emoji=message.emoji, add=message.add)
    if audience := _audience(found):
        event["audience"] = audience
    return Outcome(events=[event])


def typing(ctx: Context, message: ChatTyping) -> Outcome:
    """Tell others one is typing; not stored, not sequenced."""
    event: Event = {"type": "chat.typing", "user_id": ctx.actor.user_id, "name": ctx.actor.name}
    if isinstance(message.to, uuid.UUID):
        event["audience"] = {"users": [str(message.to)]}
    elif message.to == "hosts":
        event["audience"] = {"hosts": True}
    return Outcome(volatile=[event])


def on_message(state: RoomState, event: Event) -> None:
    if state.find_message(event["message"]["id"]) is None:
        state.chat.append(dict(event["message"]))


def on_edited(state: RoomState, event: Event) -> None:
    if found := state.find_message(event["message_id"]):
        found["text"] = event["text"]
        found["edited_at"] = event["at"]


def on_deleted(state: RoomState, event: Event) -> None:
    if found := state.find_message(event["message_id"]):
        found["deleted"] = True
        found["text"] = ""
        found["reactions"] = {}


def on_reaction(state: RoomState, event: Event) -> None:
    found = state.find_message(event["message_id"])
    if found is None:
        return
    users: list[str] = found["reactions"].setdefault(event["emoji"], [])
    if event["add"] and event["by"] not in users:
        users.append(event["by"])
    elif not event["add"] and event["by"] in users:
        users.remove(event["by"])
    if not users:
        del found["reactions"][event["emoji"]]
