"""Commands: what a handler is given (``Context``) and what it returns (``Outcome``).

Handlers are pure: given the room state, who acts, the message, the time and a source of
ids, they return the events to publish (and, for media, the asynchronous step to run
after). The catalogue (``rooms/catalogue.py``) names each message kind's handler and the
grant it needs; ``dispatch`` checks that grant, once, for every message kind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rooms.errors import Rejected, RoomError, forbidden
from rooms.roles import Grant
from rooms.state import Event, RoomState, new_event

IdSource = Callable[[], uuid.UUID]


@dataclass(frozen=True, slots=True)
class Actor:
    """The sender of a message: which user, on which connection."""

    user_id: str
    name: str
    conn_id: str


@dataclass
class Outcome:
    """What a command produced: sequenced events, volatile events, the reply's extras.

    ``effect`` is an asynchronous step the channel runs after publishing the events (the
    SFU's part of a media command: a ``media.relay`` operation or a recording switch);
    its result joins the reply. ``ack_first`` sends the ack before that step (its own
    messages, e.g. ``media.offer``, follow the ack). ``refused`` is the error to answer
    when the store refuses one of the events (a second vote).
    """

    events: list[Event] = field(default_factory=list)
    volatile: list[Event] = field(default_factory=list)
    reply: dict[str, Any] = field(default_factory=dict)
    # Events for other rooms (breakouts), as (room_id, event).
    elsewhere: list[tuple[str, Event]] = field(default_factory=list)
    effect: object | None = None
    ack_first: bool = False
    refused: RoomError | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a handler may read besides the message itself: the room, the sender,
    the command's time and where new ids come from (fixed in unit tests)."""

    state: RoomState
    actor: Actor
    now: datetime
    ids: IdSource = uuid.uuid4

    @property
    def at(self) -> str:
        """The command's time as ISO 8601, stamped on its events."""
        return self.now.isoformat()

    def new_id(self) -> str:
        """A fresh id (chat messages, polls, breakout rooms) as text."""
        return str(self.ids())

    def event(self, kind: str, **fields: Any) -> Event:
        """A new event of ``kind`` by the actor, stamped with the time."""
        return new_event(kind, by=self.actor.user_id, at=self.at, **fields)


Handler = Callable[[Context, Any], Outcome]


def dispatch(
    handler: Handler,
    grant: Grant | None,
    verb: str,
    context: Context,
    message: object,
) -> Outcome:
    """Check that the actor is in the room and holds ``grant``, then run ``handler``."""
    state, actor = context.state, context.actor
    if actor.user_id not in state.participants:
        raise Rejected("not-joined", "You are not in this room.")
    if grant is not None and grant not in state.grants(actor.user_id):
        raise forbidden(verb)
    return handler(context, message)
