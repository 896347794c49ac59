"""Deterministic per-attempt shuffling and the opaque tokens a student sees.

A student's view lists choices, options and items in an order drawn from the attempt's seed
(the same seed gives the same order, so a reload shows what the student saw) and names each
by an opaque token (``c1``, ``c2``... in display order), never by the author's id, which
might give the answer away. The token-to-id mapping (a ``Presentation``) is recomputed on
the server from the definition and the seed; it never reaches the browser.

The permutation is a Fisher-Yates shuffle driven by SHA-256 of the seed, so it does not
depend on the ``random`` module's algorithm staying the same across Python versions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from lms.assessments.errors import InvalidResponse

T = TypeVar("T")


class _Stream:
    """Uniform integers from SHA-256 in counter mode over ``seed`` and ``salt``."""

    def __init__(self, seed: str, salt: str) -> None:
        self._key = hashlib.sha256(f"{len(seed)}:{seed}|{salt}".encode()).digest()
        self._counter = 0

    def below(self, n: int) -> int:
        """A uniform integer in [0, n), by rejection (no modulo bias)."""
        limit = (1 << 64) - ((1 << 64) % n)
        while True:
            block = hashlib.sha256(self._key + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            value = int.from_bytes(block[:8], "big")
            if value < limit:
                return value % n


def permutation(seed: str, salt: str, n: int) -> list[int]:
    """A permutation of ``range(n)`` fixed by ``seed`` and ``salt``."""
    order = list(range(n))
    stream = _Stream(seed, salt)
    for i in range(n - 1, 0, -1):
        j = stream.below(i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def pinned_permutation(seed: str, salt: str, pinned: Sequence[bool]) -> list[int]:
    """A permutation of ``range(len(pinned))`` moving only the unpinned positions (a choice
    such as "None of the above" stays where the author put it)."""
    free = [i for i, pin in enumerate(pinned) if not pin]
    moved = [free[k] for k in permutation(seed, salt, len(free))]
    order = list(range(len(pinned)))
    for slot, source in zip(free, moved, strict=True):
        order[slot] = source
    return order


def scrambled(seed: str, salt: str, n: int) -> list[int]:
    """A permutation of ``range(n)`` that is never the identity when ``n >= 2`` (an ordering
    question must not show its answer)."""
    for attempt in range(8):
        order = permutation(seed, f"{salt}#{attempt}", n)
        if n < 2 or order != list(range(n)):
            return order
    return [*range(1, n), 0]  # 8 identities in a row: (1/n!)**8; rotate instead


def question_seed(attempt_seed: str, question_key: str) -> str:
    """The seed of one question in one attempt (each question shuffles independently)."""
    return hashlib.sha256(f"{attempt_seed}|{question_key}".encode()).hexdigest()


@dataclass(frozen=True)
class Presentation:
    """Which author id each token of a view stands for, per group (``choices``...)."""

    groups: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def canonical(self, group: str, token: str) -> str | None:
        """The author id behind ``token``, or None when the view has no such token."""
        return self.groups.get(group, {}).get(token)

    def token(self, group: str, canonical: str) -> str | None:
        """The token shown for author id ``canonical``, or None when it is not shown."""
        for token, value in self.groups.get(group, {}).items():
            if value == canonical:
                return token
        return None

    def to_canonical(self) -> Translator:
        """A translator from tokens to ids that refuses a token the view did not show."""
        return Translator(self, to_canonical=True)

    def to_view(self) -> Translator:
        """A translator from ids to tokens (None for an id the view no longer shows)."""
        return Translator(self, to_canonical=False)


@dataclass(frozen=True)
class Translator:
    """Translates a response's tokens to author ids (``to_canonical``) or back.

    Called as ``translate(group, value)``: the value's counterpart in ``group``, or None
    when the presentation has no such group (the value is free text, kept as it is) or,
    towards the view, no such id (the author removed it: the entry is dropped). Towards ids,
    a token the group lacks is refused with ``InvalidResponse``.
    """

    presentation: Presentation
    to_canonical: bool

    def __call__(self, group: str, value: str) -> str | None:
        if group not in self.presentation.groups:
            return None
        if not self.to_canonical:
            return self.presentation.token(group, value)
        found = self.presentation.canonical(group, value)
        if found is None:
            raise InvalidResponse(f"the answer names {value!r}, which this question lacks")
        return found


def tokens(prefix: str, ids_in_display_order: Sequence[str]) -> dict[str, str]:
    """``{prefix1: id, prefix2: id...}`` in display order."""
    return {f"{prefix}{i + 1}": value for i, value in enumerate(ids_in_display_order)}


def arrange(items: Sequence[T], order: Sequence[int]) -> list[T]:
    """``items`` in ``order`` (a permutation of their indices)."""
    return [items[i] for i in order]
