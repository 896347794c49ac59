"""The sandbox suites' shared compiled-module cache.

Compiling WASI CPython takes 10-30 s of CPU, so every suite of a test session (and every
xdist worker of it) shares one cache directory beside their temporary directories; the
runtime's lock file makes one of them compile while the others wait for its result.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sandbox_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if base.name.startswith("popen-gw") else base
    cache = shared / "sandbox-cache"
    cache.mkdir(exist_ok=True)
    return cache
