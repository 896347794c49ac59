"""The pure final-grade computation (lms/gradebook/compute.py): hand-worked examples of the
rules Canvas documents (points and weights, empty groups, drops with unequal points, never
drop, extra credit, excused, missing, overrides, rounding), and properties: the order of
columns and groups does not matter, a higher score never lowers a grade, drop lowest finds
the best subset (checked by brute force), grades stay within 0-100 without extra credit."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from lms.gradebook.compute import (
    Cell,
    ColumnRule,
    GroupRule,
    Policy,
    compute,
    letter_for,
    rounded,
)

D = Decimal
POINTS = Policy()
WEIGHTED = Policy(weighted=True)


def cols(group: str, *possible: str, **flags: bool) -> list[ColumnRule]:
    return [ColumnRule(f"{group}{n}", group, D(p), **flags) for n, p in enumerate(possible)]


def cells(**scores: str | None) -> dict[str, Cell]:
    return {k: Cell(None if v is None else D(v)) for k, v in scores.items()}


def test_points_based_is_all_scores_over_all_points() -> None:
    columns = cols("a", "10", "20")
    grades = compute(columns, [GroupRule("a")], cells(a0="8", a1="15"), POINTS)
    # 23 / 30 = 76.666... -> 76.67, a C (74 <= 76.67 < 77).
    assert (grades.current.score, grades.current.possible) == (D("23.00"), D("30.00"))
    assert grades.percent == D("76.67") and grades.letter == "C"


def test_weighted_groups_and_an_empty_group_redistributes_its_weight() -> None:
    groups = [GroupRule("hw", weight=D(40)), GroupRule("ex", weight=D(60))]
    columns = cols("hw", "10", "10") + cols("ex", "100")
    both = compute(columns, groups, cells(hw0="8", hw1="9", ex0="70"), WEIGHTED)
    # 0.40 * 85% + 0.60 * 70% = 34 + 42
    assert both.current.percent == D("76.00")
    # No exam graded yet: the current grade is homework alone (its 40% scaled to 100)...
    no_exam = compute(columns, groups, cells(hw0="8", hw1="9"), WEIGHTED)
    assert no_exam.current.percent == D("85.00")
    # ...while the final grade counts the ungraded exam as 0: 0.40 * 85% = 34.
    assert no_exam.final.percent == D("34.00")


def test_drop_lowest_keeps_the_best_grade_not_the_lowest_percentage() -> None:
    # 0/1 is the lowest percentage, but dropping 50/100 gives the best grade: 100/101.
    columns = cols("q", "1", "100", "100")
    group = GroupRule("q", drop_lowest=1)
    grades = compute(columns, [group], cells(q0="0", q1="50", q2="100"), POINTS)
    assert grades.current.groups[0].dropped == frozenset({"q1"})
    assert grades.percent == D("99.01")


def test_drop_highest_and_never_drop() -> None:
    columns = cols("q", "10", "10", "10")
    high = compute(
        columns, [GroupRule("q", drop_highest=1)], cells(q0="10", q1="5", q2="8"), POINTS
    )
    assert high.percent == D("65.00")  # (5 + 8) / 20
    pinned = cols("p", "10", never_drop=True) + cols("r", "10", "10")
    pinned = [ColumnRule(c.id, "p", c.points_possible, c.never_drop) for c in pinned]
    grades = compute(
        pinned, [GroupRule("p", drop_lowest=1)], cells(p0="0", r0="5", r1="10"), POINTS
    )
    assert grades.current.groups[0].dropped == frozenset({"r0"})
    assert grades.percent == D("50.00")  # the 0 cannot be dropped: (0 + 10) / 20


def test_dropping_more_than_there_is_keeps_one() -> None:
    columns = cols("q", "10", "10")
    grades = compute(columns, [GroupRule("q", drop_lowest=5)], cells(q0="2", q1="6"), POINTS)
    assert grades.percent == D("60.00")


def test_excused_and_missing_cells() -> None:
    columns = cols("a", "10", "10")
    excused = {"a0": Cell(D(8)), "a1": Cell(None, excused=True)}
    grades = compute(columns, [GroupRule("a")], excused, POINTS)
    assert (grades.current.percent, grades.final.percent) == (D("80.00"), D("80.00"))
    missing = {"a0": Cell(D(8)), "a1": Cell(None, missing=True)}
    as_zero = compute(columns, [GroupRule("a")], missing, POINTS)
    assert as_zero.current.percent == D("40.00")
    ungraded = compute(columns, [GroupRule("a")], missing, Policy(missing="ungraded"))
    assert (ungraded.current.percent, ungraded.final.percent) == (D("80.00"), D("40.00"))


def test_extra_credit_columns_and_groups() -> None:
    columns = [*cols("a", "10"), ColumnRule("bonus", "a", D(5), extra_credit=True)]
    grades = compute(columns, [GroupRule("a")], cells(a0="8", bonus="3"), POINTS)
    assert grades.percent == D("110.00")  # (8 + 3) / 10
    groups = [GroupRule("hw", weight=D(100)), GroupRule("x", weight=D(5), extra_credit=True)]
    columns = cols("hw", "10") + cols("x", "10")
    weighted = compute(columns, groups, cells(hw0="8", x0="10"), WEIGHTED)
    assert weighted.percent == D("85.00")  # 80% * 100 + 100% * 5, over 100


def test_an_override_replaces_the_shown_grade_only() -> None:
    columns = cols("a", "10")
    grades = compute(columns, [GroupRule("a")], cells(a0="5"), POINTS, override=D("91.5"))
    assert grades.current.percent == D("50.00")
    assert (grades.percent, grades.letter) == (D("91.50"), "A-")


def test_rounding_is_half_up_to_the_cent_once() -> None:
    assert rounded(Fraction(2, 3) * 100) == D("66.67")
    assert rounded(Fraction(1, 8)) == D("0.13")
    assert rounded(Fraction(-1, 8)) == D("-0.13")
    assert rounded(Fraction(89995, 1000)) == D("90.00")
    assert letter_for(D("89.99"), Policy().scheme) == "B+"
    assert letter_for(D("90.00"), Policy().scheme) == "A-"
    # 1/3 + 1/3 + 1/3 of a point each over 3 points is exactly 100%, not 99.99%.
    columns = cols("a", "1", "1", "1")
    thirds = {c.id: Cell(D("0.33")) for c in columns}
    assert compute(columns, [GroupRule("a")], thirds, POINTS).percent == D("33.00")


# ---------------------------------------------------------------- properties

scores = st.decimals(min_value=0, max_value=20, places=2, allow_nan=False, allow_infinity=False)
possibles = st.sampled_from([D(1), D(5), D(10), D(20), D(100)])


@st.composite
def gradebooks(
    draw: st.DrawFn, drops: str = "both"
) -> tuple[list[ColumnRule], list[GroupRule], dict[str, Cell], Policy]:
    n_groups = draw(st.integers(1, 3))
    groups = [
        GroupRule(
            f"g{g}",
            weight=D(draw(st.integers(0, 60))),
            drop_lowest=draw(st.integers(0, 2)) if drops in ("both", "lowest") else 0,
            drop_highest=draw(st.integers(0, 2)) if drops in ("both", "highest") else 0,
        )
        for g in range(n_groups)
    ]
    columns: list[ColumnRule] = []
    cells_: dict[str, Cell] = {}
    for n in range(draw(st.integers(1, 7))):
        possible = draw(possibles)
        column = ColumnRule(f"c{n}", f"g{draw(st.integers(0, n_groups - 1))}", possible)
        columns.append(column)
        kind = draw(st.sampled_from(["score", "score", "score", "ungraded", "excused", "missing"]))
        if kind == "score":
            cells_[column.id] = Cell(min(draw(scores), possible))
        elif kind != "ungraded":
            cells_[column.id] = Cell(None, excused=kind == "excused", missing=kind == "missing")
    policy = Policy(
        weighted=draw(st.booleans()), missing=draw(st.sampled_from(["zero", "ungraded"]))
    )
    return columns, groups, cells_, policy


@settings(max_examples=300, deadline=None)
@given(gradebooks(), st.randoms())
def test_order_of_columns_and_groups_does_not_matter(
    book: tuple[list[ColumnRule], list[GroupRule], dict[str, Cell], Policy], rng: random.Random
) -> None:
    columns, groups, cells_, policy = book
    expected = compute(columns, groups, cells_, policy)
    rng.shuffle(columns)
    rng.shuffle(groups)
    got = compute(columns, groups, cells_, policy)
    assert (got.current.percent, got.final.percent) == (
        expected.current.percent,
        expected.final.percent,
    )


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["lowest", "highest"]).flatmap(gradebooks), st.data())
def test_a_higher_score_never_lowers_a_grade(
    book: tuple[list[ColumnRule], list[GroupRule], dict[str, Cell], Policy], data: st.DataObject
) -> None:
    """Each group's percentage never drops; the course's grade never drops when groups are
    weighted or nothing is dropped. (Points-based with drops it can: a kept cell with more
    points possible at a lower percentage than the other groups' lowers the total, as in
    Canvas, whose drop rules also choose per group.)"""
    columns, groups, cells_, policy = book
    column = data.draw(st.sampled_from(columns))
    before = cells_.get(column.id, Cell())
    if before.excused:
        return
    base = before.score if before.score is not None else D(0)
    raised = dict(cells_)
    raised[column.id] = Cell(base + data.draw(scores))
    low, high = compute(columns, groups, cells_, policy), compute(columns, groups, raised, policy)
    pairs = [(low.final, high.final)]
    if before.score is not None:
        pairs.append((low.current, high.current))
    drops = any(g.drop_lowest or g.drop_highest for g in groups)
    for old, new in pairs:
        for old_group, new_group in zip(old.groups, new.groups, strict=True):
            assert (new_group.percent or 0) >= (old_group.percent or 0)
        if policy.weighted or not drops:
            assert (new.percent or 0) >= (old.percent or 0)


def test_points_based_drops_choose_per_group_as_canvas_does() -> None:
    # Homework: A 0.5/1 (50%) and B 4/10 (40%), drop lowest 1; Exam 10/10.
    columns = [*cols("h", "1", "10"), *cols("e", "10")]
    groups = [GroupRule("h", drop_lowest=1), GroupRule("e")]
    before = compute(columns, groups, cells(h0="0.5", h1="4", e0="10"), POINTS)
    assert before.percent == D("95.45")  # keeps A: 10.5 / 11
    after = compute(columns, groups, cells(h0="0.5", h1="6", e0="10"), POINTS)
    assert after.percent == D("80.00")  # B (60%) is now homework's best: 16 / 20


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(scores, possibles), min_size=1, max_size=6),
    st.integers(0, 4),
)
def test_drop_lowest_finds_the_best_subset(items: list[tuple[Decimal, Decimal]], drop: int) -> None:
    columns = [ColumnRule(f"c{n}", "g", p) for n, (_, p) in enumerate(items)]
    cells_ = {f"c{n}": Cell(min(s, p)) for n, (s, p) in enumerate(items)}
    got = compute(columns, [GroupRule("g", drop_lowest=drop)], cells_, POINTS).percent
    keep = max(1, len(items) - drop)
    best = max(
        sum(Fraction(cells_[c.id].score or 0) for c in subset)
        / sum(Fraction(c.points_possible) for c in subset)
        for subset in itertools.combinations(columns, keep)
    )
    assert got == rounded(best * 100)


@settings(max_examples=300, deadline=None)
@given(gradebooks())
def test_grades_stay_between_0_and_100_or_the_weights_total(
    book: tuple[list[ColumnRule], list[GroupRule], dict[str, Cell], Policy],
) -> None:
    columns, groups, cells_, policy = book
    grades = compute(columns, groups, cells_, policy)
    # As in Canvas, weights that add up past 100 are divided by 100, not by their total:
    # what is over 100 is extra credit, so the grade can reach the weights' total.
    total = sum((g.weight for g in groups), D(0))
    top = max(D(100), total) if policy.weighted else D(100)
    for grade in (grades.current, grades.final):
        assert grade.percent is None or D(0) <= grade.percent <= top
