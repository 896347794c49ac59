"""The verdict of one rule on one typed answer, shared by short answers, numbers, math and
the blanks that reuse them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """How one answer fared: ``credit`` in [0, 1]; ``checked`` False when a guard stopped
    the check (a pattern or an expression that would not finish) and a person must decide."""

    credit: float
    feedback: str | None = None
    checked: bool = True

    @property
    def correct(self) -> bool | None:
        """True for full credit, False for less, None when not checked."""
        return self.credit >= 1.0 if self.checked else None


WRONG = Outcome(0.0)
