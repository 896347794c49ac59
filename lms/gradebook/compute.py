"""Final grades, computed by one pure function from a learner's cells (no I/O): every place
that shows a grade (the grid, a learner's own page, the CSV export, the API) calls
``compute``, so they show the same numbers.

The rules follow Canvas's documented grade calculation:

- An excused cell is out of the computation. A column omitted from the final grade is too.
- The *current* grade ignores ungraded cells; the *final* grade counts them as 0. A cell
  flagged missing with no score counts as 0 in both when the course's missing policy is
  ``zero`` (else it is an ungraded cell).
- An extra-credit column adds its score and no points possible. An extra-credit group adds
  its weighted share (weighted courses) or its points (points-based courses) without
  counting in the total weight or the points possible.
- Drop rules act per group on the cells that count: drop lowest N keeps the cells that give
  the group its *highest* percentage (not merely the lowest scores: with unequal points the
  two differ), then drop highest N keeps, of those, the ones that give its lowest. Never-drop
  and extra-credit columns are always kept, and at least one droppable cell stays.
- Weighted: the sum of each counted group's percentage times its weight, divided by the
  total weight of the groups that have points possible when that is under 100 (their
  weight is redistributed); groups with nothing to count are left out.
- Points-based: all kept scores over all kept points possible. Drops choose per group, so
  here (as in Canvas) a higher score can lower the total: it may make a cell with more
  points possible the group's best, which weighs more against the other groups.

Rounding, stated once: cells are taken to the cent as stored; sums are exact integers of
cents and ratios exact fractions; a percentage is rounded half
up to two decimal places only when it is returned; the letter is looked up with the rounded
percentage (``percent >= bound``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal

MissingPolicy = Literal["zero", "ungraded"]
CENT = Decimal("0.01")
HUNDRED = Fraction(100)
DEFAULT_SCHEME: tuple[tuple[str, Decimal], ...] = tuple(
    (name, Decimal(bound))
    for name, bound in (
        ("A", "94"),
        ("A-", "90"),
        ("B+", "87"),
        ("B", "84"),
        ("B-", "80"),
        ("C+", "77"),
        ("C", "74"),
        ("C-", "70"),
        ("D+", "67"),
        ("D", "64"),
        ("D-", "61"),
        ("F", "0"),
    )
)
"""Canvas's default letter-grade scheme: (letter, lowest percentage)."""


@dataclass(frozen=True)
class ColumnRule:
    """What the computation needs of a column."""

    id: Hashable
    group_id: Hashable
    points_possible: Decimal
    never_drop: bool = False
    extra_credit: bool = False
    omit_from_final: bool = False


@dataclass(frozen=True)
class GroupRule:
    """What the computation needs of an assignment group (weight in percent)."""

    id: Hashable
    weight: Decimal = Decimal(0)
    drop_lowest: int = 0
    drop_highest: int = 0
    extra_credit: bool = False


@dataclass(frozen=True)
class Cell:
    """A learner's cell: its score (None: ungraded) and flags."""

    score: Decimal | None = None
    excused: bool = False
    missing: bool = False


@dataclass(frozen=True)
class Policy:
    """The course's settings that change the arithmetic."""

    weighted: bool = False
    missing: MissingPolicy = "zero"
    scheme: tuple[tuple[str, Decimal], ...] = DEFAULT_SCHEME


@dataclass(frozen=True)
class GroupGrade:
    """A group's kept points, its points possible, its percentage and what was dropped."""

    group_id: Hashable
    score: Decimal
    possible: Decimal
    percent: Decimal | None
    dropped: frozenset[Hashable] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Grade:
    """A grade: points, points possible, percentage, letter, and the groups'."""

    score: Decimal
    possible: Decimal
    percent: Decimal | None
    letter: str | None
    groups: tuple[GroupGrade, ...]


@dataclass(frozen=True)
class Grades:
    """A learner's current and final grade and the one shown (an override wins)."""

    current: Grade
    final: Grade
    override: Decimal | None
    percent: Decimal | None
    letter: str | None


@dataclass(frozen=True)
class _Item:
    """A cell that counts: its score and points possible in cents (integers)."""

    id: Hashable
    score: int
    possible: int
    fixed: bool


def rounded(value: Fraction) -> Decimal:
    """``value`` rounded half away from zero to two decimal places, exactly (the one
    rounding of this module; Decimal's ROUND_HALF_UP)."""
    scaled = abs(value) * 100
    cents, remainder = divmod(scaled.numerator, scaled.denominator)
    if 2 * remainder >= scaled.denominator:
        cents += 1
    return (Decimal(-cents if value < 0 else cents) / 100).quantize(CENT)


def letter_for(percent: Decimal | None, scheme: Sequence[tuple[str, Decimal]]) -> str | None:
    """The letter of the highest bound ``percent`` reaches (None without a percentage)."""
    if percent is None:
        return None
    for name, bound in sorted(scheme, key=lambda entry: entry[1], reverse=True):
        if percent >= bound:
            return name
    return None


def _cents(value: Decimal) -> int:
    """A stored amount (two decimal places) in cents."""
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))


def _ratio(items: Iterable[_Item]) -> tuple[int, int] | None:
    """Score over points possible as (numerator, denominator > 0), None without points."""
    score = possible = 0
    for item in items:
        score += item.score
        possible += item.possible
    if possible == 0:
        return None
    return (score, possible) if possible > 0 else (-score, -possible)


def _keep(items: list[_Item], fixed: list[_Item], keep: int, *, best: bool) -> list[_Item]:
    """The ``keep`` items that, with ``fixed``, give the highest (``best``) or lowest
    ratio of score to points possible (Dinkelbach's iteration in integers: exact, it ends
    because the ratio strictly improves and there are finitely many subsets)."""
    if keep >= len(items):
        return items
    sign = 1 if best else -1

    def choose(qn: int, qd: int) -> list[_Item]:
        # Rank by score - q * possible, i.e. score * qd - qn * possible (qd > 0).
        ranked = sorted(
            items,
            key=lambda i: (sign * (i.score * qd - qn * i.possible), sign * i.score, str(i.id)),
        )
        return ranked[len(items) - keep :]

    chosen = choose(0, 1)
    q = _ratio([*fixed, *chosen])
    if q is None:  # nothing has points possible: keep the highest (lowest) scores
        return chosen
    while True:
        again = choose(*q)
        q2 = _ratio([*fixed, *again])
        if q2 is None or sign * (q2[0] * q[1] - q[0] * q2[1]) <= 0:
            return chosen
        chosen, q = again, q2


def _group(group: GroupRule, items: list[_Item]) -> tuple[GroupGrade, int, int]:
    fixed = [i for i in items if i.fixed]
    droppable = [i for i in items if not i.fixed]
    n = len(droppable)
    lowest = max(0, min(group.drop_lowest, n - 1))
    highest = max(0, min(group.drop_highest, n - lowest - 1))
    kept = _keep(droppable, fixed, n - lowest, best=True)
    kept = _keep(kept, fixed, n - lowest - highest, best=False)
    kept_ids = {i.id for i in kept}
    dropped = frozenset(i.id for i in droppable if i.id not in kept_ids)
    score = sum(i.score for i in [*fixed, *kept])
    possible = sum(i.possible for i in [*fixed, *kept])
    percent = Fraction(score * 100, possible) if possible else None
    grade = GroupGrade(
        group.id,
        _points(score),
        _points(possible),
        None if percent is None else rounded(percent),
        dropped,
    )
    return grade, score, possible


def _points(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def _grade(
    columns: Sequence[ColumnRule],
    groups: Sequence[GroupRule],
    cells: Mapping[Hashable, Cell],
    policy: Policy,
    *,
    final: bool,
) -> Grade:
    by_group: dict[Hashable, list[_Item]] = {g.id: [] for g in groups}
    for column in columns:
        if column.omit_from_final or column.group_id not in by_group:
            continue
        cell = cells.get(column.id, Cell())
        if cell.excused:
            continue
        score = cell.score
        if score is None and cell.missing and policy.missing == "zero":
            score = Decimal(0)
        if score is None:
            if not final:
                continue
            score = Decimal(0)
        extra = column.extra_credit or column.points_possible <= 0
        possible = 0 if extra else _cents(column.points_possible)
        by_group[column.group_id].append(
            _Item(column.id, _cents(score), possible, column.never_drop or extra)
        )
    results: list[GroupGrade] = []
    total_score = total_possible = 0
    weighted = weight = Fraction(0)
    for group in groups:
        grade, kept, kept_possible = _group(group, by_group[group.id])
        results.append(grade)
        total_score += kept
        if not group.extra_credit:
            total_possible += kept_possible
        if kept_possible:
            weighted += Fraction(kept, kept_possible) * Fraction(group.weight)
            if not group.extra_credit:
                weight += Fraction(group.weight)
    percent: Fraction | None
    if policy.weighted:
        percent = weighted / (weight if weight < HUNDRED else HUNDRED) * HUNDRED if weight else None
    else:
        percent = Fraction(total_score * 100, total_possible) if total_possible else None
    shown = None if percent is None else rounded(percent)
    return Grade(
        _points(total_score),
        _points(total_possible),
        shown,
        letter_for(shown, policy.scheme),
        tuple(results),
    )


def compute(
    columns: Sequence[ColumnRule],
    groups: Sequence[GroupRule],
    cells: Mapping[Hashable, Cell],
    policy: Policy,
    override: Decimal | None = None,
) -> Grades:
    """A learner's grades from the course's columns and groups and their cells (a column
    without a cell is ungraded). ``override`` (a percentage, shown to the cent) replaces
    the shown grade."""
    current = _grade(columns, groups, cells, policy, final=False)
    final = _grade(columns, groups, cells, policy, final=True)
    if override is not None:
        override = override.quantize(CENT, ROUND_HALF_UP)
    percent = current.percent if override is None else override
    return Grades(current, final, override, percent, letter_for(percent, policy.scheme))
