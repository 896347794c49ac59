"""The order test modules are handed to pytest-xdist workers, and the markers of the fast
subsets (``-m "not browser"``, ``-m "not slow"``).

Under ``-n 2 --dist loadfile --no-loadscope-reorder`` a worker that finishes a module takes
the next one in collection order. The modules that cost the most (``pytest.mark.slow`` on
the module) go first, the others by their number of tests, most first: what is left for the
end is short, so neither worker waits long for the other one's last module (xdist's own
reordering, by number of tests alone, left a few long modules of few tests to the end).
Tests keep their order inside a module (module-scoped nodes and browsers).
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
BROWSER_DIRS = frozenset({"e2e"})
"""Directories under tests/ whose modules drive Chromium: they get ``pytest.mark.browser``."""


def mark_browser_tests(items: list[pytest.Item]) -> None:
    """``pytest.mark.browser`` on every test of a browser directory."""
    for item in items:
        try:
            relative = item.path.resolve().relative_to(TESTS)
        except ValueError:
            continue
        if relative.parts and relative.parts[0] in BROWSER_DIRS:
            item.add_marker(pytest.mark.browser)


def heaviest_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """``items`` with whole modules reordered: slow-marked first, then by size."""
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::", 1)[0], []).append(item)

    def weight(tests: list[pytest.Item]) -> tuple[int, int]:
        slow = any(test.get_closest_marker("slow") is not None for test in tests)
        return (0 if slow else 1, -len(tests))

    ordered = sorted(modules.values(), key=weight)  # stable: ties keep collection order
    return [item for tests in ordered for item in tests]
