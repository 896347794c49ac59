"""The graded-code sandbox's compiled-module cache shared by a test session.

Compiling WASI CPython takes 10-30 s of CPU, so every suite of a session (and every xdist
worker of it, and the nodes they start, through ``LIVECLASS_SANDBOX_CACHE_DIR``) shares one
directory beside the session's temporary directories; the runtime's lock file makes one of
them compile while the others wait for its result.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's shared cache directory (created if needed)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if base.name.startswith("popen-gw") else base
    cache = shared / "sandbox-cache"
    cache.mkdir(exist_ok=True)
    return cache
