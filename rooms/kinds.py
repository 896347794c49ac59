"""The room protocol's declarations: message kinds, event kinds, and the catalogue of both.

A ``MessageKind`` is a client-to-server message: its model, handler, grant and rate-limit
bucket. An ``EventKind`` is a server-to-client message: its model, how it is delivered
(sequenced and persisted, volatile, or direct to one connection), its reducer, and whether
it changes what presence entries say. ``Catalogue`` holds them, filled by explicit
``register`` calls (``rooms/catalogue.py``), and is what parsing, dispatch, reducers,
projections and presence rules look kinds up in. Nothing registers on import.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal, Union, cast

from pydantic import BaseModel, Field, TypeAdapter

from rooms.dispatch import Actor, Context, Handler, IdSource, Outcome, dispatch
from rooms.errors import Rejected
from rooms.messages import Message, decode, type_name
from rooms.roles import Grant
from rooms.state import Event, Reducer, RoomState

if TYPE_CHECKING:
    from rooms.projections import Projection

Rate = Literal["chat", "control", "volatile", "caption"]
Delivery = Literal["sequenced", "volatile", "direct"]


@dataclass(frozen=True, slots=True)
class MessageKind:
    """A client-to-server message kind.

    ``handler`` None: answered by the channel itself (``ping``). ``grant`` None: any
    participant (the handler may check more). ``verb`` completes "Your role in this room
    may not …". ``rate`` names the connection's rate-limit bucket it counts against.
    """

    model: type[Message]
    handler: Handler | None
    grant: Grant | None
    verb: str
    rate: Rate = "control"

    @property
    def name(self) -> str:
        """The ``type`` value on the wire."""
        return type_name(self.model)


@dataclass(frozen=True, slots=True)
class EventKind:
    """A server-to-client message kind.

    ``sequenced``: to the room, stored before anyone receives it (``persisted``), carries
    ``seq``, recovered on reconnect; ``volatile``: to the room, never stored; ``direct``: to
    one connection (welcome, ack, …). ``reducer`` applies a sequenced event to the room
    state; ``refreshes_presence``: the event changes what a node's presence entries say;
    ``projection`` changes the room tables when the event is stored (and may refuse it).
    """

    model: type[BaseModel]
    delivery: Delivery
    reducer: Reducer | None = None
    refreshes_presence: bool = False
    projection: Projection | None = None

    @property
    def name(self) -> str:
        """The ``type`` value on the wire."""
        return str(self.model.model_fields["type"].annotation.__args__[0])  # type: ignore[union-attr]

    @property
    def persisted(self) -> bool:
        """Whether the event is written to the database (every sequenced one is)."""
        return self.delivery == "sequenced"


class Catalogue:
    """Every kind of the room protocol, registered explicitly, looked up by name."""

    def __init__(self) -> None:
        self.messages: dict[str, MessageKind] = {}
        self.events: dict[str, EventKind] = {}  # sequenced and volatile
        self.direct: dict[str, EventKind] = {}
        self._by_model: dict[type[Message], MessageKind] = {}
        self._adapter: TypeAdapter[Message] | None = None

    def register(self, *kinds: MessageKind | EventKind) -> None:
        """Add kinds; a name declared twice (in the same direction) is an error."""
        for kind in kinds:
            if isinstance(kind, MessageKind):
                table: dict[str, MessageKind] | dict[str, EventKind] = self.messages
            else:
                table = self.direct if kind.delivery == "direct" else self.events
            if kind.name in table:
                raise ValueError(f"room kind declared twice: {kind.name}")
            if isinstance(kind, MessageKind):
                self.messages[kind.name] = kind
                self._by_model[kind.model] = kind
                self._adapter = None
            elif kind.delivery == "direct":
                self.direct[kind.name] = kind
            else:
                self.events[kind.name] = kind

    # ------------------------------------------------------------------ messages

    def parse(self, frame: str | bytes) -> Message:
        """Decode one client frame into its kind's model; ``BadMessage`` says what is wrong."""
        if self._adapter is None:
            models = tuple(kind.model for kind in self.messages.values())
            union = Annotated[Union[models], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
            self._adapter = cast("TypeAdapter[Message]", TypeAdapter(union))
        return decode(frame, self._adapter, self.messages)

    def kind_of(self, message: Message) -> MessageKind:
        """The declaration of a parsed message."""
        found = self._by_model.get(type(message))
        if found is None:
            raise Rejected("unsupported", f"{type(message).__name__} is not handled here.")
        return found

    def dispatch(
        self,
        state: RoomState,
        actor: Actor,
        message: Message,
        now: datetime,
        ids: IdSource = uuid.uuid4,
    ) -> Outcome:
        """Run a message's handler after the grant check (``rooms/dispatch.py``)."""
        kind = self.kind_of(message)
        if kind.handler is None:
            raise Rejected("unsupported", f"{kind.name} is answered by the channel.")
        context = Context(state, actor, now, ids)
        return dispatch(kind.handler, kind.grant, kind.verb, context, message)

    # ------------------------------------------------------------------ events

    def apply(self, state: RoomState, event: Event, *, offset: int) -> None:
        """Apply one published event; unknown kinds only move the offset (newer nodes)."""
        kind = self.events.get(event.get("type", ""))
        if kind is not None and kind.reducer is not None:
            kind.reducer(state, event)
        state.offset = max(state.offset, offset)

    def projection(self, event_type: str) -> Projection | None:
        """How events of this type change the room tables, if they do."""
        kind = self.events.get(event_type)
        return kind.projection if kind is not None else None

    def refreshes_presence(self, event_type: str | None) -> bool:
        """Whether events of this type change what presence entries say."""
        kind = self.events.get(event_type or "")
        return kind is not None and kind.refreshes_presence
