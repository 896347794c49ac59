"""Commands: each client message type maps to one handler and the one grant it needs.

Handlers are pure: given the room state, who acts and the message, they return the events
to publish. The permission check happens here, once, for every message type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from rooms.errors import Rejected, forbidden
from rooms.messages import Message
from rooms.roles import Grant
from rooms.state import Event, RoomState, new_event


@dataclass(frozen=True, slots=True)
class Actor:
    """The sender of a message: which user, on which connection."""

    user_id: str
    name: str
    conn_id: str


@dataclass
class Outcome:
    """What a command produced: sequenced events, volatile events, the reply's extras."""

    events: list[Event] = field(default_factory=list)
    volatile: list[Event] = field(default_factory=list)
    reply: dict[str, Any] = field(default_factory=dict)
    # Events for other rooms (breakouts), as (room_id, event).
    elsewhere: list[tuple[str, Event]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a handler may read besides the message itself."""

    state: RoomState
    actor: Actor
    now: datetime

    @property
    def at(self) -> str:
        """The command's time as ISO 8601, stamped on its events."""
        return self.now.isoformat()

    def event(self, kind: str, **fields: Any) -> Event:
        """A new event of ``kind`` by the actor, stamped with the time."""
        return new_event(kind, by=self.actor.user_id, at=self.at, **fields)


M = TypeVar("M", bound=Message)
Handler = Callable[[Context, Any], Outcome]


@dataclass(frozen=True, slots=True)
class Route:
    """A message type's handler, the grant it requires, and a verb for error messages."""

    handler: Handler
    grant: Grant | None
    verb: str
    kind: str


ROUTES: dict[type[Message], Route] = {}


def handles(
    message: type[M], *, grant: Grant | None, verb: str, kind: str = "control"
) -> Callable[[Callable[[Context, M], Outcome]], Callable[[Context, M], Outcome]]:
    """Register the handler of ``message``; ``grant`` None means any participant."""

    def register(handler: Callable[[Context, M], Outcome]) -> Callable[[Context, M], Outcome]:
        ROUTES[message] = Route(handler, grant, verb, kind)
        return handler

    return register


def route_of(message: Message) -> Route:
    """The route registered for the message's type."""
    found = ROUTES.get(type(message))
    if found is None:
        raise Rejected("unsupported", f"{type(message).__name__} is not handled here.")
    return found


def dispatch(state: RoomState, actor: Actor, message: Message, now: datetime) -> Outcome:
    """Check the actor's grant for the message, then run its handler."""
    found = route_of(message)
    if actor.user_id not in state.participants:
        raise Rejected("not-joined", "You are not in this room.")
    if found.grant is not None and found.grant not in state.grants(actor.user_id):
        raise forbidden(found.verb)
    return found.handler(Context(state, actor, now), message)
