"""The Yjs channel's caps and timings, one frozen value shared by the documents, the
channel and the node's settings (`docs/operations.md` lists each one's setting)."""

from __future__ import annotations

from dataclasses import dataclass, field

from realtime.yjs.update_format import StructureLimits


@dataclass(frozen=True, kw_only=True)
class DocumentLimits:
    """Caps and timings of the Yjs channel (see `docs/operations.md`)."""

    max_update_bytes: int = 1 << 20
    max_document_bytes: int = 32 << 20
    max_awareness_bytes: int = 256 << 10
    compact_threshold: int = 500
    idle_unload_seconds: float = 30.0
    send_queue_bytes: int = 1 << 20
    durable: bool = True
    """Commit each update before broadcasting it; False: broadcast, then store in the
    background (a crash loses what was still queued)."""
    structure: StructureLimits = field(default_factory=StructureLimits)
    """Caps on one update's nesting and element count (checked on ingest)."""
    messages_per_second: float = 500.0
    message_burst: int = 2000
    bytes_per_second: int = 4 << 20
    """Inbound rate per connection, every message type counted; past it: close 4029. The
    byte budget's burst is the larger of two seconds' worth and one whole update."""
