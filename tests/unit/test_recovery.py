"""Recovery: missed publications in order, no duplicates, or a snapshot when history is short."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from realtime.broker import HistoryResult, Publication, StreamPosition
from realtime.recovery import (
    NeedsSnapshot,
    Recovered,
    SnapshotReason,
    merge_publications,
    recover,
)

EPOCH = "e1"


def pub(offset: int, epoch: str = EPOCH) -> Publication:
    return Publication("ch", offset, epoch, b"%d" % offset)


def history(offsets: range | list[int], latest: int, epoch: str = EPOCH) -> HistoryResult:
    return HistoryResult(tuple(pub(o, epoch) for o in offsets), epoch, latest)


def test_nothing_missed_recovers_empty() -> None:
    outcome = recover(StreamPosition(5, EPOCH), history([], latest=5))
    assert outcome == Recovered((), StreamPosition(5, EPOCH))


def test_missed_publications_are_returned_in_order() -> None:
    outcome = recover(StreamPosition(2, EPOCH), history(range(3, 6), latest=5))
    assert isinstance(outcome, Recovered)
    assert [p.offset for p in outcome.publications] == [3, 4, 5]
    assert outcome.position == StreamPosition(5, EPOCH)


def test_epoch_change_needs_snapshot() -> None:
    outcome = recover(StreamPosition(2, "old"), history(range(1, 4), latest=3))
    assert outcome == NeedsSnapshot(SnapshotReason.EPOCH_CHANGED, StreamPosition(3, EPOCH))


def test_trimmed_history_needs_snapshot() -> None:
    outcome = recover(StreamPosition(2, EPOCH), history(range(5, 9), latest=8))
    assert isinstance(outcome, NeedsSnapshot)
    assert outcome.reason is SnapshotReason.GAP


def test_history_cut_by_limit_needs_snapshot() -> None:
    outcome = recover(StreamPosition(0, EPOCH), history(range(1, 4), latest=10))
    assert isinstance(outcome, NeedsSnapshot)
    assert outcome.reason is SnapshotReason.GAP


def test_offset_ahead_of_stream_needs_snapshot() -> None:
    outcome = recover(StreamPosition(9, EPOCH), history([], latest=3))
    assert isinstance(outcome, NeedsSnapshot)
    assert outcome.reason is SnapshotReason.OFFSET_AHEAD


def test_buffered_live_publications_extend_and_dedupe() -> None:
    buffered = [pub(5), pub(6), pub(7)]
    outcome = recover(StreamPosition(3, EPOCH), history(range(4, 6), latest=5), buffered=buffered)
    assert isinstance(outcome, Recovered)
    assert [p.offset for p in outcome.publications] == [4, 5, 6, 7]
    assert outcome.position == StreamPosition(7, EPOCH)


def test_buffered_publication_of_new_epoch_needs_snapshot() -> None:
    outcome = recover(StreamPosition(3, EPOCH), history([4], latest=4), buffered=[pub(1, "e2")])
    assert isinstance(outcome, NeedsSnapshot)
    assert outcome.reason is SnapshotReason.EPOCH_CHANGED


def test_merge_prefers_unique_offsets_sorted() -> None:
    merged = merge_publications([pub(2), pub(3)], [pub(4), pub(3), pub(1)])
    assert [p.offset for p in merged] == [1, 2, 3, 4]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[StreamPosition, HistoryResult, list[Publication], int]:
    """A stream of `latest` publications, a trimmed and limited history read, live extras."""
    latest = draw(st.integers(0, 40))
    since = draw(st.integers(0, latest))
    first_kept = draw(st.integers(1, latest + 1))
    limit = draw(st.integers(0, 45))
    kept = [o for o in range(first_kept, latest + 1) if o > since][:limit]
    newest = draw(st.integers(latest, latest + 10))
    buffered = draw(st.lists(st.integers(max(1, first_kept - 3), max(1, newest)), max_size=20))
    live = [pub(o) for o in buffered if o <= newest]
    return StreamPosition(since, EPOCH), history(kept, latest), live, newest


@given(scenarios())
def test_recovery_never_duplicates_or_reorders(
    scenario: tuple[StreamPosition, HistoryResult, list[Publication], int],
) -> None:
    since, result, buffered, _ = scenario
    outcome = recover(since, result, buffered=buffered)
    available = {p.offset for p in (*result.publications, *buffered) if p.offset > since.offset}
    top = max(available | {result.offset})
    assert isinstance(outcome, Recovered) == (available == set(range(since.offset + 1, top + 1)))
    if isinstance(outcome, Recovered):
        offsets = [p.offset for p in outcome.publications]
        assert offsets == list(range(since.offset + 1, outcome.position.offset + 1))
        assert outcome.position.offset >= result.offset
    else:
        assert outcome.reason is SnapshotReason.GAP


@given(scenarios())
def test_complete_history_always_recovers(
    scenario: tuple[StreamPosition, HistoryResult, list[Publication], int],
) -> None:
    since, result, _, _ = scenario
    complete = history(range(since.offset + 1, result.offset + 1), result.offset)
    outcome = recover(since, complete)
    assert isinstance(outcome, Recovered)
    assert len(outcome.publications) == result.offset - since.offset


@given(st.lists(st.integers(1, 50)), st.lists(st.integers(1, 50)))
def test_merge_is_the_sorted_union(left: list[int], right: list[int]) -> None:
    merged = merge_publications([pub(o) for o in left], [pub(o) for o in right])
    assert [p.offset for p in merged] == sorted(set(left) | set(right))
