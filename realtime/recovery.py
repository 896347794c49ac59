"""Sans-I/O recovery: from a client's last position and a history read, what it missed.

A reconnecting client sends the (epoch, offset) it last saw. The server subscribes first
(buffering live publications), reads history after that offset, then merges both. Recovery
succeeds only when every offset after the client's is present; otherwise it needs a snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from itertools import chain
from typing import TypeAlias

from .broker import HistoryResult, Publication, StreamPosition


class SnapshotReason(StrEnum):
    """Why a client cannot catch up from history and must start again from a snapshot."""

    EPOCH_CHANGED = "epoch changed"
    OFFSET_AHEAD = "offset ahead of stream"
    GAP = "history gap"


@dataclass(frozen=True, slots=True)
class Recovered:
    """Nothing is missing: send `publications` in order; the client is then at `position`."""

    publications: tuple[Publication, ...]
    position: StreamPosition


@dataclass(frozen=True, slots=True)
class NeedsSnapshot:
    """History cannot fill the gap; the client must resync from a snapshot."""

    reason: SnapshotReason
    position: StreamPosition


RecoveryOutcome: TypeAlias = Recovered | NeedsSnapshot


def merge_publications(
    history: Iterable[Publication], live: Iterable[Publication]
) -> list[Publication]:
    """History and live publications of one epoch as one list, unique by offset, ascending."""
    by_offset = {pub.offset: pub for pub in chain(history, live)}
    return [by_offset[offset] for offset in sorted(by_offset)]


def recover(
    since: StreamPosition, history: HistoryResult, *, buffered: Iterable[Publication] = ()
) -> RecoveryOutcome:
    """Decide whether `history` plus `buffered` live publications cover everything after `since`."""
    latest = history.position
    if since.epoch != history.epoch:
        return NeedsSnapshot(SnapshotReason.EPOCH_CHANGED, latest)
    if since.offset > history.offset:
        return NeedsSnapshot(SnapshotReason.OFFSET_AHEAD, latest)
    live = list(buffered)
    if any(pub.epoch != history.epoch for pub in live):
        return NeedsSnapshot(SnapshotReason.EPOCH_CHANGED, latest)
    merged = merge_publications(history.publications, live)
    missed = [pub for pub in merged if pub.offset > since.offset]
    top = max(history.offset, missed[-1].offset if missed else 0)
    if not _dense(missed, first=since.offset + 1, last=top):
        return NeedsSnapshot(SnapshotReason.GAP, latest)
    return Recovered(tuple(missed), StreamPosition(top, history.epoch))


def _dense(publications: list[Publication], *, first: int, last: int) -> bool:
    """True if the offsets are exactly first, first + 1, ..., last (already unique and sorted)."""
    if not publications:
        return first > last
    return (
        publications[0].offset == first
        and publications[-1].offset == last
        and len(publications) == last - first + 1
    )
