"""Relayed media signalling between nodes (pure): operations, replies, deliveries, codec.

A node holding a participant's room channel runs the grant checks itself, then sends the
room's owner node an operation (``Request``) on the owner's relay channel; the owner runs it
on its SFU and answers with a ``Reply`` carrying the same correlation id. What the owner has
to tell a connection held elsewhere (a subscriber offer, a reconnect) travels as a
``Deliver`` to that connection's node. Wire form: one JSON object per message.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import orjson

MAX_MESSAGE_BYTES = 256 * 1024  # an SDP is a few KB; the relay never carries more


class RelayDecodeError(ValueError):
    """Bytes on a relay channel that are not a relay message (ignored, logged)."""


@dataclass(frozen=True)
class Publish:
    """Apply a publisher offer (mid -> source); reply ``{sdp, tracks}``."""

    room_id: str
    user_id: str
    conn_id: str
    sdp: str
    sources: dict[str, str]


@dataclass(frozen=True)
class Unpublish:
    """Stop forwarding one source of a connection; reply ``{}``."""

    room_id: str
    conn_id: str
    source: str


@dataclass(frozen=True)
class Subscribe:
    """(Re)create a connection's subscriber; its offers come back as deliveries."""

    room_id: str
    conn_id: str


@dataclass(frozen=True)
class Answer:
    """A subscriber's answer to offer ``version``; reply ``{}``."""

    room_id: str
    conn_id: str
    version: int
    sdp: str


@dataclass(frozen=True)
class Mute:
    """A host (``by``, grant checked by the sender) mutes a user's source; reply ``{muted}``."""

    room_id: str
    user_id: str
    source: str
    by: str


@dataclass(frozen=True)
class Leave:
    """The connection ended: close both of its peer connections; reply ``{}``."""

    room_id: str
    conn_id: str


@dataclass(frozen=True)
class PublishExternal:
    """Publish a WHIP offer (no room connection behind it) on the owner; reply
    ``{sdp, tracks}``. The owner records the session for every node to find."""

    room_id: str
    user_id: str
    conn_id: str
    sdp: str
    sources: dict[str, str]


@dataclass(frozen=True)
class EndExternal:
    """End a WHIP publisher (its ``DELETE`` reached any node); reply ``{}``."""

    room_id: str
    conn_id: str


Op = Publish | Unpublish | Subscribe | Answer | Mute | Leave | PublishExternal | EndExternal
OPS: dict[str, type[Op]] = {
    "publish": Publish,
    "unpublish": Unpublish,
    "subscribe": Subscribe,
    "answer": Answer,
    "mute": Mute,
    "leave": Leave,
    "publish_external": PublishExternal,
    "end_external": EndExternal,
}
_NAMES = {kind: name for name, kind in OPS.items()}


@dataclass(frozen=True)
class Request:
    """An operation for the owner node; ``origin`` is where the reply goes."""

    id: str
    origin: str
    op: Op


@dataclass(frozen=True)
class Reply:
    """The owner's answer to request ``id``: a result, or a media error code and message."""

    id: str
    result: dict[str, Any] | None = None
    code: str | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        """Whether the operation succeeded."""
        return self.code is None


@dataclass(frozen=True)
class Deliver:
    """A direct message (``media.offer``, ``media.reconnect``) for one connection."""

    conn_id: str
    kind: str
    fields: dict[str, Any] = field(default_factory=dict)


Message = Request | Reply | Deliver
DELIVERABLE = frozenset({"media.offer", "media.reconnect"})


def encode(message: Message) -> bytes:
    """The wire form of a relay message."""
    if isinstance(message, Request):
        body = {"op": _NAMES[type(message.op)], **asdict(message.op)}
        return orjson.dumps({"k": "req", "id": message.id, "origin": message.origin, **body})
    if isinstance(message, Reply):
        return orjson.dumps({"k": "rep", **asdict(message)})
    return orjson.dumps({"k": "dlv", **asdict(message)})


def decode(raw: bytes) -> Message:
    """Parse and check a relay message; RelayDecodeError if it is not one."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise RelayDecodeError("relay message too large")
    try:
        found = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RelayDecodeError("not JSON") from None
    if not isinstance(found, dict):
        raise RelayDecodeError("not an object")
    kind = found.get("k")
    if kind == "req":
        op_type = OPS.get(_text(found, "op"))
        if op_type is None:
            raise RelayDecodeError("unknown operation")
        values: dict[str, Any] = {f.name: found.get(f.name) for f in fields(op_type)}
        for name, value in values.items():
            _check(op_type, name, value)
        return Request(_text(found, "id"), _text(found, "origin"), op_type(**values))
    if kind == "rep":
        result, code = found.get("result"), found.get("code")
        if result is not None and not isinstance(result, dict):
            raise RelayDecodeError("bad result")
        if code is not None and not isinstance(code, str):
            raise RelayDecodeError("bad code")
        if (result is None) == (code is None):
            raise RelayDecodeError("a reply has a result or an error code")
        return Reply(_text(found, "id"), result, code, str(found.get("message") or ""))
    if kind == "dlv":
        deliver_kind, body = _text(found, "kind"), found.get("fields")
        if deliver_kind not in DELIVERABLE or not isinstance(body, dict):
            raise RelayDecodeError("bad delivery")
        return Deliver(_text(found, "conn_id"), deliver_kind, body)
    raise RelayDecodeError("unknown message kind")


def _text(found: dict[str, Any], name: str) -> str:
    value = found.get(name)
    if not isinstance(value, str) or not value:
        raise RelayDecodeError(f"{name} must be a non-empty string")
    return value


def _check(op_type: type[Op], name: str, value: Any) -> None:
    if name == "version":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    elif name == "sources":
        ok = (
            isinstance(value, dict)
            and bool(value)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        )
    else:
        ok = isinstance(value, str) and (bool(value) or name == "sdp")
    if not ok:
        raise RelayDecodeError(f"{op_type.__name__}.{name} is invalid")
