"""Pure parts of learning content: played coverage of a video from heartbeats, and the
Markdown a page's editors write rendered to HTML that carries no code."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lms.content import render, watching
from lms.content.watching import Coverage, add, merge, uncovered


def test_rewatching_counts_once_and_seeking_counts_nothing() -> None:
    known = add(Coverage((), 100.0), [(0, 10)], elapsed=None)
    known = add(known, [(0, 10), (5, 12)], elapsed=10)
    assert known.intervals == ((0.0, 12.0),)
    assert known.share == 0.12
    # Playing past the end counts up to the end only.
    late = add(Coverage((), 100.0), [(95, 400)], elapsed=1000)
    assert late.seconds == 5.0


def test_a_heartbeat_gains_no_more_than_its_time_allows() -> None:
    first = add(Coverage((), 3600.0), [(0, 3600)], elapsed=None)
    assert first.seconds == watching.SLACK_SECONDS
    later = add(first, [(0, 3600)], elapsed=10)
    assert later.seconds == 2 * watching.SLACK_SECONDS + watching.MAX_SPEED * 10


def test_stored_ranges_stay_bounded() -> None:
    known = Coverage((), 100_000.0)
    for start in range(0, 2 * watching.MAX_INTERVALS * 10, 10):
        known = add(known, [(start, start + 1)], elapsed=100)
    assert len(known.intervals) <= watching.MAX_INTERVALS
    assert known.seconds >= 2 * watching.MAX_INTERVALS


ranges = st.lists(
    st.tuples(st.floats(0, 500), st.floats(0, 500)).map(lambda p: (min(p), max(p))), max_size=30
)


@given(ranges, ranges, st.floats(0, 100) | st.none())
def test_coverage_only_grows_within_the_video_and_the_allowance(
    known: list[tuple[float, float]], played: list[tuple[float, float]], elapsed: float | None
) -> None:
    before = Coverage(merge(watching.clip(known, 300.0)), 300.0)
    after = add(before, played, elapsed=elapsed)
    assert before.seconds - 1e-6 <= after.seconds <= 300.0 + 1e-6
    gain = after.seconds - before.seconds
    assert gain <= watching.SLACK_SECONDS + watching.MAX_SPEED * (elapsed or 0) + 1e-6
    assert all(0 <= s < e <= 300.0 for s, e in after.intervals)
    assert list(after.intervals) == sorted(after.intervals)


def test_uncovered_parts() -> None:
    assert uncovered((0, 10), [(2, 3), (5, 20)]) == [(0, 2), (3, 5)]
    assert uncovered((0, 10), []) == [(0, 10)]


def test_markdown_renders_without_any_code() -> None:
    html = render.render(
        "# T\n\n<script>x()</script>\n\n[a](javascript:x()) [b](https://e.org 'b')\n\n"
        "![i](data:image/svg+xml;base64,PHN2Zz4=)\n\n| a |\n|:-:|\n| 1 |\n\n"
        "<a href=x onclick=y>z</a>"
    )
    assert "<script>" not in html and "<a href=x" not in html and "<img" not in html
    assert "&lt;a href=x onclick=y&gt;" in html  # raw HTML stays text
    assert '<a href="https://e.org" title="b" rel="noopener noreferrer nofollow">b</a>' in html
    assert '<th style="text-align:center">a</th>' in html


def test_sanitize_strips_what_markdown_cannot_make() -> None:
    dirty = '<p style="position:fixed" onmouseover="x()">a<iframe src="https://e.org"></iframe></p>'
    assert render.sanitize(dirty) == "<p>a</p>"


def test_a_page_too_long_is_refused() -> None:
    try:
        render.render("a" * (render.MAX_MARKDOWN_CHARS + 1))
    except render.PageTooLongError:
        return
    raise AssertionError("a page past the cap rendered")
