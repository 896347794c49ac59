"""Guards on the aiortc, aioice and pylibsrtp internals the SFU patches or reads.

liveclass pins those versions, and every module that relies on a private name or on how a
method is written checks it here first, so an upgrade that changes one fails loudly at
start-up (and in the unit tests) instead of misbehaving with media in flight.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable
from typing import Any


@functools.cache
def _source(code: Any) -> str:
    return inspect.getsource(code)


def require_source(code: Any, needles: Iterable[str]) -> None:
    """Raise unless the source of ``code`` (a class or function, read once) has each needle."""
    source = _source(code)
    for needle in needles:
        if needle not in source:
            raise RuntimeError(f"{code.__module__}.{code.__qualname__} no longer does {needle!r}")


def require_attributes(instance: object, names: Iterable[str]) -> None:
    """Raise unless ``instance`` has every one of ``names``."""
    for name in names:
        if not hasattr(instance, name):
            raise RuntimeError(f"{type(instance).__qualname__}.{name} is gone")
