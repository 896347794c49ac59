"""The y-protocols awareness update format and a server-side awareness table.

An update is `varUint(n)` then, per client, `varUint(clientID) varUint(clock) varString(json)`.
A state of JSON `null` means the client left. For each client the higher clock wins; an equal
clock wins only to remove a present state (how a client announces its own departure).
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final, NoReturn

from realtime.yjs.errors import MalformedMessage, MessageTooLarge
from realtime.yjs.lib0 import MAX_VAR_UINT, Reader, encode_var_string, encode_var_uint

NULL_STATE: Final = "null"
"""The JSON text of a removed state."""

DEFAULT_MAX_AWARENESS_PAYLOAD: Final = 1024 * 1024
"""Stock clients echo every state they learn back to the server, so one inbound update can
hold the whole room's states: the cap must scale with the room, not with one cursor."""


@dataclass(frozen=True, slots=True)
class AwarenessEntry:
    """One client's awareness state at a clock; `state` is the JSON text as sent."""

    client_id: int
    clock: int
    state: str


@dataclass(frozen=True, slots=True)
class AwarenessChange:
    """What one update (or a disconnect) changed, and the entries to forward to every peer."""

    added: tuple[int, ...] = ()
    updated: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()
    entries: tuple[AwarenessEntry, ...] = ()

    @property
    def payload(self) -> bytes:
        """The forwarded entries as an encoded awareness update."""
        return encode_awareness_update(self.entries)


def encode_awareness_update(entries: Iterable[AwarenessEntry]) -> bytes:
    """Encode entries as an awareness update payload."""
    items = list(entries)
    parts = [encode_var_uint(len(items))]
    for entry in items:
        parts.append(encode_var_uint(entry.client_id))
        parts.append(encode_var_uint(entry.clock))
        parts.append(encode_var_string(entry.state))
    return b"".join(parts)


def decode_awareness_update(payload: bytes) -> list[AwarenessEntry]:
    """Decode an awareness update payload; raises `MalformedMessage` on any byte out of place."""
    reader = Reader(payload)
    count = reader.read_var_uint()
    entries = []
    for _ in range(count):
        client_id = reader.read_var_uint()
        clock = reader.read_var_uint()
        entries.append(AwarenessEntry(client_id, clock, reader.read_var_string()))
    reader.expect_end()
    return entries


def is_removal(state: str) -> bool:
    """Whether a state's JSON text is `null`; raises `MalformedMessage` if it is not JSON.

    Parsing is as strict as the browser's `JSON.parse`: NaN and Infinity are rejected, since
    a state no client can parse would break every peer's message handler. A state nested
    deeper than Python's recursion limit (`[` a thousand times fits in a payload) makes
    `json.loads` raise `RecursionError`: it is refused the same way.
    """
    try:
        return json.loads(state, parse_constant=_reject_constant) is None
    except (ValueError, RecursionError) as exc:
        raise MalformedMessage(f"awareness state is not JSON: {exc}") from exc


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


class AwarenessState:
    """The awareness table of one document, shared by all of its connections.

    It applies updates by the Yjs rules and remembers which connection last set each client's
    state, so that when a connection drops, `disconnect` yields the update that removes them.
    Removed clients keep their clock (a tombstone) so that an echo of an old state cannot
    bring them back; the oldest tombstones are forgotten past `max_tombstones`.
    """

    def __init__(
        self,
        *,
        max_payload_size: int = DEFAULT_MAX_AWARENESS_PAYLOAD,
        max_clients_per_connection: int = 8,
        max_tombstones: int = 4096,
    ) -> None:
        self._max_payload_size = max_payload_size
        self._max_clients_per_connection = max_clients_per_connection
        self._max_tombstones = max_tombstones
        self._states: dict[int, AwarenessEntry] = {}
        self._tombstones: dict[int, int] = {}
        self._owners: dict[int, Hashable] = {}
        self._owned: dict[Hashable, set[int]] = {}

    def __len__(self) -> int:
        return len(self._states)

    @property
    def states(self) -> Mapping[int, str]:
        """Present states by client id, as JSON text."""
        return {client_id: entry.state for client_id, entry in self._states.items()}

    def clock(self, client_id: int) -> int:
        """The last clock seen for a client, 0 if never seen (the Yjs default)."""
        entry = self._states.get(client_id)
        return entry.clock if entry is not None else self._tombstones.get(client_id, 0)

    def clients_of(self, connection: Hashable) -> frozenset[int]:
        """Client ids whose present state was last set through `connection`."""
        return frozenset(self._owned.get(connection, ()))

    def snapshot(self) -> bytes:
        """Every present state as one update payload, the answer to a query-awareness."""
        return encode_awareness_update(self._states.values())

    def apply(self, payload: bytes, *, connection: Hashable) -> AwarenessChange:
        """Apply an update received on `connection`; the change lists only the entries that won.

        Raises `MessageTooLarge` or `MalformedMessage` before touching the table. A connection
        may own at most `max_clients_per_connection` states; entries past that are dropped.
        """
        if len(payload) > self._max_payload_size:
            raise MessageTooLarge(len(payload), limit=self._max_payload_size)
        decoded = [(entry, is_removal(entry.state)) for entry in decode_awareness_update(payload)]
        added: list[int] = []
        updated: list[int] = []
        removed: list[int] = []
        accepted: list[AwarenessEntry] = []
        for entry, removal in decoded:
            if not self._wins(entry, removal=removal):
                continue
            if removal:
                if self._remove(entry.client_id, entry.clock):
                    removed.append(entry.client_id)
                    accepted.append(AwarenessEntry(entry.client_id, entry.clock, NULL_STATE))
                continue
            was_present = entry.client_id in self._states
            if self._set(entry, connection):
                (updated if was_present else added).append(entry.client_id)
                accepted.append(entry)
        return AwarenessChange(_ids(added), _ids(updated), _ids(removed), tuple(accepted))

    def disconnect(self, connection: Hashable) -> AwarenessChange:
        """Remove every state owned by `connection`, returning the update peers must receive."""
        entries = []
        for client_id in sorted(self.clients_of(connection)):
            clock = self._states[client_id].clock
            # At the clock ceiling an equal clock still removes a present state.
            entry = AwarenessEntry(client_id, min(clock + 1, MAX_VAR_UINT), NULL_STATE)
            self._remove(client_id, entry.clock)
            entries.append(entry)
        return AwarenessChange(removed=tuple(e.client_id for e in entries), entries=tuple(entries))

    def _wins(self, entry: AwarenessEntry, *, removal: bool) -> bool:
        current = self.clock(entry.client_id)
        if entry.clock > current:
            return True
        return entry.clock == current and removal and entry.client_id in self._states

    def _set(self, entry: AwarenessEntry, connection: Hashable) -> bool:
        """Store a winning state unless its connection already owns too many; True if stored."""
        owned = self._owned.get(connection, set())
        if entry.client_id not in owned and len(owned) >= self._max_clients_per_connection:
            return False
        self._disown(entry.client_id)
        self._owned.setdefault(connection, set()).add(entry.client_id)
        self._owners[entry.client_id] = connection
        self._states[entry.client_id] = entry
        self._tombstones.pop(entry.client_id, None)
        return True

    def _remove(self, client_id: int, clock: int) -> bool:
        """Record a removal at `clock`; True if a present state went away."""
        was_present = self._states.pop(client_id, None) is not None
        self._disown(client_id)
        self._tombstones.pop(client_id, None)
        self._tombstones[client_id] = clock
        while len(self._tombstones) > self._max_tombstones:
            del self._tombstones[next(iter(self._tombstones))]
        return was_present

    def _disown(self, client_id: int) -> None:
        if client_id not in self._owners:
            return
        owner = self._owners.pop(client_id)
        owned = self._owned[owner]
        owned.discard(client_id)
        if not owned:
            del self._owned[owner]


def _ids(client_ids: list[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(client_ids))
