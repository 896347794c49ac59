"""Schemathesis hooks for the fuzzing test: how to send bodies of our non-JSON media types."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.serializer("application/sdp")
def sdp(_ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    """WHIP offers: the generated string as the SDP text (anything else as its repr)."""
    return (value if isinstance(value, str) else repr(value)).encode("utf-8", "surrogatepass")
