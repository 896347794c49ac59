"""The gradebook's values as response bodies: structure, cells, computed grades, the grid's
rows and a learner's own page, all built from one ``Book``."""

from __future__ import annotations

import uuid

from lms.gradebook.book import Book, Learner
from lms.gradebook.compute import Grade, Grades
from lms.gradebook.schemas import (
    CellOut,
    ColumnOut,
    GradeOut,
    GradesOut,
    GroupGradeOut,
    GroupOut,
    MyColumnOut,
    MyGradesOut,
    RowOut,
    SchemeEntry,
    SettingsOut,
    StructureOut,
    StudentOut,
)
from lms.gradebook.service import snapshot
from persistence.models import GradeScore


def structure(book: Book) -> StructureOut:
    """The book's settings, groups and columns."""
    policy = book.policy
    return StructureOut(
        settings=SettingsOut(
            weighted=policy.weighted,
            missing_policy=policy.missing,
            scheme=[SchemeEntry(name=n, min=b) for n, b in policy.scheme],
        ),
        groups=[GroupOut.model_validate(g) for g in book.groups],
        columns=[ColumnOut.model_validate(c) for c in book.columns],
    )


def cell(row: GradeScore | None) -> CellOut | None:
    """A cell as the API shows it (None: never graded)."""
    if row is None:
        return None
    return CellOut(
        score=row.score,
        excused=row.excused,
        missing=row.missing,
        late=row.late,
        late_deduction=row.late_deduction,
        posted=row.posted_at is not None,
        state=snapshot(row),
    )


def _grade(grade: Grade) -> GradeOut:
    return GradeOut(
        score=grade.score,
        possible=grade.possible,
        percent=grade.percent,
        letter=grade.letter,
        groups=[
            GroupGradeOut(
                group_id=g.group_id,
                score=g.score,
                possible=g.possible,
                percent=g.percent,
                dropped=sorted(str(d) for d in g.dropped),
            )
            for g in grade.groups
        ],
    )


def grades(computed: Grades) -> GradesOut:
    """Computed grades as the API shows them."""
    return GradesOut(
        current=_grade(computed.current),
        final=_grade(computed.final),
        override=computed.override,
        percent=computed.percent,
        letter=computed.letter,
    )


def row(book: Book, person: Learner) -> RowOut:
    """A learner's row of the grid (every cell, posted or not)."""
    cells = {}
    for column in book.columns:
        shown = cell(book.cell(column.id, person.id))
        if shown is not None:
            cells[str(column.id)] = shown
    return RowOut(
        student=StudentOut(id=person.id, name=person.name, email=person.email),
        cells=cells,
        grades=grades(book.grades(person.id)),
    )


def mine(book: Book, user_id: uuid.UUID) -> MyGradesOut:
    """A learner's own page: posted cells only, the grade computed from them."""
    columns = []
    for column in book.columns:
        found = book.cell(column.id, user_id)
        hidden = found is None or found.posted_at is None
        columns.append(
            MyColumnOut(
                column=ColumnOut.model_validate(column),
                cell=None if hidden else cell(found),
                hidden=hidden,
            )
        )
    computed = book.grades(user_id, as_learner=True)
    return MyGradesOut(
        groups=[GroupOut.model_validate(g) for g in book.groups],
        columns=columns,
        grades=grades(computed),
        weighted=book.policy.weighted,
    )
