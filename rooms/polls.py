"""Polls: create, vote once, live results for hosts, publish to everyone, close."""

from __future__ import annotations

import uuid

from rooms.dispatch import Context, Outcome
from rooms.errors import Rejected, not_found
from rooms.messages import PollClose, PollCreate, PollPublish, PollVote
from rooms.state import Event, Poll, RoomState

MAX_OPEN_POLLS = 20
ALREADY_VOTED = Rejected("already-voted", "You have already voted in this poll.")


def _poll(ctx: Context, poll_id: uuid.UUID) -> Poll:
    found = ctx.state.polls.get(str(poll_id))
    if found is None:
        raise not_found("poll")
    return found


def create(ctx: Context, message: PollCreate) -> Outcome:
    """Open a new poll with 2-10 options."""
    if sum(p.status == "open" for p in ctx.state.polls.values()) >= MAX_OPEN_POLLS:
        raise Rejected("too-many-polls", "Close a poll before opening another.")
    if len(set(message.options)) != len(message.options):
        raise Rejected("invalid", "Poll options must differ.")
    poll = {
        "id": ctx.new_id(),
        "question": message.question,
        "options": list(message.options),
        "multiple": message.multiple,
        "anonymous": message.anonymous,
        "created_by": ctx.actor.user_id,
    }
    return Outcome(events=[ctx.event("poll.created", poll=poll)], reply={"poll_id": poll["id"]})


def vote(ctx: Context, message: PollVote) -> Outcome:
    """Vote once; hosts see the tallies change live, the voter gets an ack."""
    poll = _poll(ctx, message.poll_id)
    if poll.status != "open":
        raise Rejected("poll-closed", "This poll is closed.")
    choices = sorted(set(message.choices))
    if any(c >= len(poll.options) for c in choices):
        raise Rejected("invalid", "No such option.")
    if len(choices) > 1 and not poll.multiple:
        raise Rejected("invalid", "This poll takes one choice.")
    voter = ctx.state.voter_key(poll, ctx.actor.user_id)
    if voter in poll.voters:
        raise Rejected("already-voted", "You have already voted in this poll.")
    event = ctx.event("poll.voted", poll_id=poll.id, choices=choices)
    if poll.anonymous:
        # Hosts see this event: name the voter only by a keyed hash (one vote each still).
        del event["by"]
        event["voter"] = voter
        event["_voter_id"] = ctx.actor.user_id  # stored, never published
    event["audience"] = {"users": [ctx.actor.user_id], "hosts": True}
    # Two tabs may vote at once: the store keeps the first vote and refuses the second.
    return Outcome(events=[event], refused=ALREADY_VOTED)


def publish(ctx: Context, message: PollPublish) -> Outcome:
    """Show the results to everyone."""
    poll = _poll(ctx, message.poll_id)
    if poll.published:
        return Outcome()
    return Outcome(
        events=[ctx.event("poll.published", poll_id=poll.id, results=poll.results(named=False))]
    )


def close(ctx: Context, message: PollClose) -> Outcome:
    """Stop accepting votes."""
    poll = _poll(ctx, message.poll_id)
    if poll.status == "closed":
        return Outcome()
    return Outcome(events=[ctx.event("poll.closed", poll_id=poll.id)])


def on_created(state: RoomState, event: Event) -> None:
    data = event["poll"]
    if data["id"] not in state.polls:
        state.polls[data["id"]] = Poll(
            id=data["id"],
            question=data["question"],
            options=list(data["options"]),
            multiple=data["multiple"],
            anonymous=data["anonymous"],
            created_by=data["created_by"],
            counts=[0] * len(data["options"]),
        )


def on_voted(state: RoomState, event: Event) -> None:
    poll = state.polls.get(event["poll_id"])
    voter = event.get("voter") or event.get("by")
    if poll is None or poll.status != "open" or voter is None or voter in poll.voters:
        return
    poll.voters[voter] = list(event["choices"])
    poll.votes += 1
    for choice in event["choices"]:
        if 0 <= choice < len(poll.counts):
            poll.counts[choice] += 1


def on_published(state: RoomState, event: Event) -> None:
    if poll := state.polls.get(event["poll_id"]):
        poll.published = True


def on_closed(state: RoomState, event: Event) -> None:
    if poll := state.polls.get(event["poll_id"]):
        poll.status = "closed"
