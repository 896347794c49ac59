"""Importing this module registers every room message handler and event reducer."""

from __future__ import annotations

from rooms import breakouts, chat, controls, polls, presence
from rooms.dispatch import ROUTES
from rooms.messages import MESSAGE_TYPES, type_name

REGISTERED = (breakouts, chat, controls, polls, presence)
# Ping is answered by the session itself; every other message type must have a handler.
UNHANDLED = MESSAGE_TYPES - {type_name(m) for m in ROUTES} - {"ping"}
assert not UNHANDLED, f"message types without a handler: {sorted(UNHANDLED)}"
