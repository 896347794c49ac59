"""The sandbox suites' shared compiled-module cache (``kits.sandbox``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kits.sandbox import shared_cache


@pytest.fixture(scope="session")
def sandbox_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_cache(tmp_path_factory)
