"""Importing this module registers every room message handler and event reducer."""

from __future__ import annotations

from rooms import breakouts, chat, controls, media_events, polls, presence
from rooms.dispatch import ROUTES
from rooms.messages import MEDIA_MESSAGES, MESSAGE_TYPES, type_name

REGISTERED = (breakouts, chat, controls, media_events, polls, presence)
# Ping is answered by the session itself, media.* by rooms/media.py (async, the SFU);
# every other message type must have a handler.
MEDIA_TYPES = {type_name(m) for m in MEDIA_MESSAGES}
UNHANDLED = MESSAGE_TYPES - {type_name(m) for m in ROUTES} - {"ping"} - MEDIA_TYPES
assert not UNHANDLED, f"message types without a handler: {sorted(UNHANDLED)}"
