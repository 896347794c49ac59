"""How documents travel between nodes: a channel per document, publications framed with the
node and connection they came from, and the frames fanned out to local connections."""

from __future__ import annotations

from typing import Final

from realtime.yjs.lib0 import Reader, encode_var_string, encode_var_uint

CHANNEL_PREFIX = "docs:"


def channel_of(name: str) -> str:
    """The broker channel carrying a document's updates and awareness between nodes."""
    return CHANNEL_PREFIX + name


DELETED: Final = b"\x7f"
"""Published on a document's channel when it is deleted, so every node drops its copy. Not a
y-websocket message (types 0-3): it is never sent to a client."""

SETTLE: Final = b"\x7e"
"""`SETTLE + request id`: every node holding the document stores the edits it has received,
then answers `SETTLED + request id` on the same channel (`realtime.yjs.settling`)."""

SETTLED: Final = b"\x7d"

CONTROL: Final = frozenset({DELETED, SETTLE, SETTLED})
"""First bytes of the frames that are for the nodes only, never sent to a client."""


def is_control(frame: bytes) -> bool:
    """Whether a frame is a node-to-node control frame (deletion, settle request or answer)."""
    return frame[:1] in CONTROL


class DocFrame(bytes):
    """A frame fanned out to a document's connections; `origin` is the local connection that
    caused it (0 if none, or another node's), which does not get it back. A `control` frame
    is for the nodes only."""

    origin: int = 0
    control: bool = False


def encode_publication(node_id: str, origin: int, frame: bytes) -> bytes:
    """The broker payload: `varString(node) varUint(origin)` then the y-websocket frame."""
    return encode_var_string(node_id) + encode_var_uint(origin) + frame


def decode_publication(payload: bytes) -> tuple[str, int, bytes]:
    """Split a broker payload into (node, origin, frame)."""
    reader = Reader(payload)
    node = reader.read_var_string()
    origin = reader.read_var_uint()
    return node, origin, reader.read_bytes(reader.remaining)
