"""The late policy, computed once when a submission is graded and stored with the score.

Days late count started days past the due date that applies to the student (an extension's
if any). The deduction is ``per_day`` % of the points per day, at most ``cap`` %; it never
takes the score below ``floor`` % of the points (a score already below the floor stays).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Late:
    """What the policy did to a raw score."""

    days: int
    deduction: Decimal
    score: Decimal


def days_late(submitted_at: datetime | None, due_at: datetime | None) -> int:
    """Started days between the due date and the submission (0 when on time)."""
    if submitted_at is None or due_at is None or submitted_at <= due_at:
        return 0
    return math.ceil((submitted_at - due_at).total_seconds() / 86400)


def apply(
    raw: Decimal,
    *,
    points: Decimal,
    days: int,
    per_day: Decimal,
    cap: Decimal,
    floor: Decimal,
) -> Late:
    """The score after the late deduction, rounded half up to hundredths."""
    percent = min(per_day * days, cap)
    deduction = (points * percent / 100).quantize(CENT, ROUND_HALF_UP)
    lowest = min(raw, (points * floor / 100).quantize(CENT, ROUND_HALF_UP))
    final = max(raw - deduction, lowest)
    return Late(days=days, deduction=raw - final, score=final.quantize(CENT, ROUND_HALF_UP))
