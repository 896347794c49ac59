"""The gradebook as CSV: the export shows what the grid shows (the same computed numbers),
and an import is parsed into a preview of every cell it would change (old -> new) with the
errors per row, then applied all or nothing.

The file: ``Student, ID, Email``, one ``Title (column id)`` header per column, then
``Current Score, Final Score, Override, Grade`` (read-only on import). A cell is a score,
``EX`` (excused) or empty (ungraded). Text we export that a spreadsheet would take for a
formula (starting with = + - @ tab or CR) is prefixed with ``'``; an import strips it.

The preview's ``version`` hashes the file and every change's old and new value: applying
recomputes the preview and refuses (409) when the version no longer holds, and each cell is
written only if it still has the value the preview showed.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lms.errors import InvalidInput
from lms.gradebook.book import Book
from lms.gradebook.errors import InvalidScore
from lms.gradebook.service import UNCHANGED, GradeEdit, snapshot, to_points
from persistence.models import GradeColumn

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_ERRORS = 200
FIXED = ("Student", "ID", "Email")
COMPUTED = ("Current Score", "Final Score", "Override", "Grade")
COLUMN_HEADER = re.compile(r"\(([0-9a-fA-F-]{36})\)\s*$")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(text: str) -> str:
    """``text`` as a spreadsheet shows it without evaluating it (formula injection)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def unquote(text: str) -> str:
    """An imported cell without the export's guard quote and surrounding blanks."""
    text = text.strip()
    return text[1:] if text.startswith("'") else text


def cell_text(score: Decimal | None, excused: bool) -> str:
    """How a cell reads in the CSV (and the grid)."""
    if excused:
        return "EX"
    return "" if score is None else str(to_points(score))


def _percent(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def export(book: Book) -> str:
    """The gradebook as CSV text: a row per learner, the grid's numbers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    titles = [safe(f"{c.title} ({c.id})") for c in book.columns]
    writer.writerow([*FIXED, *titles, *COMPUTED])
    for person in book.learners:
        grades = book.grades(person.id)
        cells = []
        for column in book.columns:
            row = book.cell(column.id, person.id)
            cells.append(cell_text(row.score, row.excused) if row else "")
        writer.writerow(
            [
                safe(person.name),
                str(person.id),
                safe(person.email),
                *cells,
                _percent(grades.current.percent),
                _percent(grades.final.percent),
                _percent(grades.override),
                grades.letter or "",
            ]
        )
    return out.getvalue()


@dataclass(frozen=True)
class CellChange:
    """One cell an import changes."""

    row: int
    student_id: uuid.UUID
    student: str
    column_id: uuid.UUID
    column: str
    old: str
    new: str
    before: dict[str, Any]
    edit: GradeEdit


@dataclass
class Preview:
    """What an import would do: its changes, its errors (row 1 is the header) and the
    version to apply it with."""

    changes: list[CellChange] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    rows: int = 0
    version: str = ""

    def error(self, row: int, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append((row, message))


def _decode(data: bytes) -> list[list[str]]:
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"The file is larger than {MAX_BYTES} bytes.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text.") from None
    if "\x00" in text:
        raise InvalidInput("The file is not CSV text (it has NUL characters).")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise InvalidInput(f"The file is not valid CSV: {exc}.") from None
    if not rows:
        raise InvalidInput("The file is empty.")
    if len(rows) > MAX_ROWS + 1:
        raise InvalidInput(f"The file has more than {MAX_ROWS} rows.")
    return rows


def _parse_cell(text: str) -> tuple[Decimal | None, bool]:
    """(score, excused) of an imported cell; InvalidScore when it is neither."""
    value = unquote(text)
    if value.upper() == "EX":
        return None, True
    if not value:
        return None, False
    if len(value) > 40:
        raise InvalidScore("A score must be a number.")
    return to_points(
        value.replace(",", ".") if value.count(",") == 1 and "." not in value else value
    ), False


def preview(book: Book, data: bytes) -> Preview:
    """Parse ``data`` against ``book`` into the changes it would make and its errors."""
    rows = _decode(data)
    result = Preview(rows=len(rows) - 1)
    header = [unquote(h) for h in rows[0]]
    if "ID" not in header and "Email" not in header:
        raise InvalidInput("The header has neither an ID nor an Email column.")
    columns: dict[int, GradeColumn] = {}
    known = {c.id: c for c in book.columns}
    for index, title in enumerate(header):
        if title in FIXED or title in COMPUTED or not title:
            continue
        match = COLUMN_HEADER.search(title)
        column = known.get(uuid.UUID(match.group(1))) if match else None
        if column is None:
            result.error(1, f"Unknown column “{title[:100]}”.")
        else:
            columns[index] = column
    people = {p.id: p for p in book.learners}
    by_email = {p.email.casefold(): p for p in book.learners}
    seen: set[uuid.UUID] = set()
    id_at = header.index("ID") if "ID" in header else None
    email_at = header.index("Email") if "Email" in header else None
    for number, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        person = None
        raw_id = unquote(cells[id_at]) if id_at is not None and id_at < len(cells) else ""
        if raw_id:
            try:
                person = people.get(uuid.UUID(raw_id))
            except ValueError:
                person = None
        elif email_at is not None and email_at < len(cells):
            person = by_email.get(unquote(cells[email_at]).casefold())
        if person is None:
            result.error(number, "No such student in this course.")
            continue
        if person.id in seen:
            result.error(number, "This student is on an earlier row too.")
            continue
        seen.add(person.id)
        for index, column in columns.items():
            text = cells[index] if index < len(cells) else ""
            try:
                score, excused = _parse_cell(text)
            except InvalidScore as exc:
                result.error(number, f"{column.title}: {exc.detail}")
                continue
            current = book.cell(column.id, person.id)
            before = snapshot(current)
            old = cell_text(current.score, current.excused) if current else ""
            new = cell_text(score, excused)
            if old == new:
                continue
            edit = GradeEdit(score=UNCHANGED if excused else score, excused=excused)
            result.changes.append(
                CellChange(
                    number, person.id, person.name, column.id, column.title, old, new, before, edit
                )
            )
    digest = hashlib.sha256(data)
    digest.update(
        json.dumps(
            [[str(c.student_id), str(c.column_id), c.before, c.new] for c in result.changes],
            sort_keys=True,
        ).encode()
    )
    result.version = base64.urlsafe_b64encode(digest.digest()[:18]).decode()
    return result
