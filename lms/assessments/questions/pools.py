"""Drawing an attempt's questions from pools: N at random per rule, deterministic from the
attempt's seed, never the same question twice in one attempt.

A rule names a pool (a bank) and optionally tags every drawn question must carry. Rules
are served from the most constrained (fewest candidates) to the least, so a general rule
does not take the only questions a specific one could use; a rule left with fewer
candidates than it asks for is refused with ``PoolTooSmall``, naming the pool and counts.
Candidates are sorted by id before drawing, so the draw does not depend on the order the
database returned them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from lms.assessments.errors import PoolTooSmall
from lms.assessments.questions.shuffle import permutation

Tag = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class PoolRule(BaseModel):
    """Draw ``count`` questions from ``pool`` carrying every one of ``tags``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pool: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    count: Annotated[int, Field(ge=1, le=500)]
    tags: Annotated[frozenset[Tag], Field(max_length=20)] = frozenset()


@dataclass(frozen=True)
class Candidate:
    """A question that a pool holds, with its tags."""

    question_id: str
    pool: str
    tags: frozenset[str] = frozenset()


def _matches(rule: PoolRule, candidate: Candidate) -> bool:
    return candidate.pool == rule.pool and rule.tags <= candidate.tags


def draw(rules: Sequence[PoolRule], candidates: Sequence[Candidate], seed: str) -> list[str]:
    """The question ids drawn for an attempt: each rule's draw in rule order."""
    unique = sorted({c.question_id: c for c in candidates}.values(), key=lambda c: c.question_id)
    pools = [[c for c in unique if _matches(rule, c)] for rule in rules]
    taken: set[str] = set()
    drawn: dict[int, list[str]] = {}
    for index in sorted(range(len(rules)), key=lambda i: (len(pools[i]), i)):
        rule = rules[index]
        free = [c.question_id for c in pools[index] if c.question_id not in taken]
        if len(free) < rule.count:
            tags = f" tagged {', '.join(sorted(rule.tags))}" if rule.tags else ""
            raise PoolTooSmall(
                f"pool {rule.pool!r}{tags} has {len(free)} questions left to draw, "
                f"{rule.count} asked",
                pool=rule.pool,
                wanted=rule.count,
                available=len(free),
            )
        order = permutation(seed, f"pool:{index}:{rule.pool}", len(free))
        chosen = [free[i] for i in order[: rule.count]]
        taken.update(chosen)
        drawn[index] = chosen
    return [question for index in range(len(rules)) for question in drawn[index]]
