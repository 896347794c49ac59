"""Fuzzing the Yjs ingest path: any frames either work or are refused with a `YjsError`, and
the live document always equals what was stored (fuzzharness.Ingest lists every check).

Short run by default (derandomized); `LIVECLASS_FUZZ=long` for the long one (docs/fuzzing.md).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fuzzharness import Ingest, corpus_cases, fuzz_settings, ingest
from fuzzstrategies import Case, cases
from hypothesis import event, example, given, target

SEEDS = corpus_cases("seeds")
CRASHERS = corpus_cases("crashers")


def test_the_corpus_has_seeds_and_crashers() -> None:
    assert len(SEEDS) >= 15
    assert len(CRASHERS) >= 6


@pytest.mark.parametrize("case", [c for _, c in SEEDS], ids=[n for n, _ in SEEDS])
def test_every_seed_is_taken_whole(case: Case) -> None:
    """Seeds are what real clients send: nothing in them may be refused."""
    result = ingest(case)
    assert not [o for o in result.outcomes if "refused" in o or "known" in o], result.outcomes


@pytest.mark.parametrize("case", [c for _, c in CRASHERS], ids=[n for n, _ in CRASHERS])
def test_every_crasher_is_refused_and_harms_nothing(case: Case) -> None:
    result = ingest(case)
    assert any("refused" in o for o in result.outcomes), result.outcomes
    assert not any("known" in o for o in result.outcomes), result.outcomes


def _run(case: Case) -> Ingest:
    result = ingest(case)
    for outcome in result.outcomes:
        event(outcome)
    target(float(sum("accepted" in o for o in result.outcomes)), label="accepted batches")
    return result


def with_corpus(test: Callable[[Case], None]) -> Callable[[Case], None]:
    """Every committed case is an explicit example of the property too."""
    for _, case in SEEDS + CRASHERS:
        test = example(case)(test)
    return test


@fuzz_settings(300)
@with_corpus
@given(cases())
def test_any_frames_leave_the_live_document_consistent(case: Case) -> None:
    _run(case)
