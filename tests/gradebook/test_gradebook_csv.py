"""CSV export and import of the gradebook on a live node (SQLite and PostgreSQL): exported
text cannot run as a spreadsheet formula, an unchanged export imports as no change, an edited
file is previewed cell by cell (old -> new, errors per row) then applied all or nothing with
its version, each change in the history as "CSV import"; a gradebook changed since the
preview, a file with errors, and malformed, oversize or mistyped files change nothing."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from gradebook_kit import Course

from kits.nodes import Node

pytestmark = pytest.mark.postgres
PROBLEM = "application/problem+json"
CSV = {"Content-Type": "text/csv"}


@pytest.fixture
def course(node: Node) -> Course:
    return Course(node)


def _export(course: Course) -> list[list[str]]:
    answer = course.request(course.teacher, "GET", f"{course.base}/export.csv")
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    return list(csv.reader(io.StringIO(answer.text)))


def _text(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _preview(course: Course, body: bytes, token: str | None = None) -> Any:
    path = f"{course.base}/import/preview"
    answer = course.request(token or course.teacher, "POST", path, content=body, headers=CSV)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _apply(course: Course, body: bytes, version: str) -> Any:
    path = f"{course.base}/import/apply"
    return course.request(
        course.teacher, "POST", path, content=body, headers=CSV, params={"version": version}
    )


def _row(rows: list[list[str]], student_id: object) -> list[str]:
    return next(r for r in rows if r[1] == str(student_id))


def test_exported_text_never_runs_as_a_formula(course: Course) -> None:
    course.call(course.students[0], "PATCH", "/api/v1/users/me", json={"name": "=HYPERLINK(1)"})
    column = course.column("@SUM(A1)", "10")
    course.grade(column["id"], 0, score="-2")
    rows = _export(course)
    assert rows[0][3] == f"'@SUM(A1) ({column['id']})"
    mine = _row(rows, course.student_ids[0])
    assert mine[0] == "'=HYPERLINK(1)"
    assert mine[3] == "-2.00"  # our own numbers are not text: left as they are
    # The export imports back as nothing to change.
    found = _preview(course, _text(rows))
    assert (found["changes"], found["errors"]) == ([], [])


def test_an_edited_file_is_previewed_then_applied_atomically(course: Course) -> None:
    quiz = course.column("Quiz", "10")
    course.column("Essay", "20")
    course.grade(quiz["id"], 0, score="5")
    rows = _export(course)
    _row(rows, course.student_ids[0])[3] = "6.5"  # quiz 5 -> 6.5
    _row(rows, course.student_ids[1])[4] = "ex"  # essay: excused
    _row(rows, course.student_ids[2])[3] = "'7"  # a guarded number still reads as 7
    body = _text(rows)
    found = _preview(course, body)
    assert found["errors"] == []
    got = sorted((c["column"], c["old"], c["new"]) for c in found["changes"])
    assert got == [("Essay", "", "EX"), ("Quiz", "", "7.00"), ("Quiz", "5.00", "6.50")]
    # Nothing is written by a preview.
    grid = course.call(course.teacher, "GET", f"{course.base}/grid")
    first = next(r for r in grid["rows"] if r["student"]["id"] == str(course.student_ids[0]))
    assert first["cells"][quiz["id"]]["score"] == "5.00"
    answer = _apply(course, body, found["version"])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"applied": 3}
    history = course.call(course.teacher, "GET", f"{course.base}/history")["items"]
    imported = [h for h in history if h["reason"] == "CSV import"]
    assert len(imported) == 3 and {h["actor_id"] for h in imported} == {str(course.teacher_id)}
    rows = _export(course)
    assert _row(rows, course.student_ids[0])[3] == "6.50"
    assert _row(rows, course.student_ids[1])[4] == "EX"
    # Applying the same file again: the version no longer holds (the cells changed).
    assert _apply(course, body, found["version"]).status_code == 409


def test_a_gradebook_changed_since_the_preview_is_not_overwritten(course: Course) -> None:
    quiz = course.column("Quiz", "10")
    rows = _export(course)
    _row(rows, course.student_ids[0])[3] = "9"
    _row(rows, course.student_ids[1])[3] = "8"
    body = _text(rows)
    found = _preview(course, body)
    assert len(found["changes"]) == 2
    course.grade(quiz["id"], 1, token=course.ta, score="4")  # a TA grades meanwhile
    answer = _apply(course, body, found["version"])
    assert answer.status_code == 409 and answer.headers["content-type"] == PROBLEM
    rows = _export(course)
    assert _row(rows, course.student_ids[0])[3] == ""  # nothing of the file was applied
    assert _row(rows, course.student_ids[1])[3] == "4.00"


def test_errors_are_reported_per_row_and_block_the_import(course: Course) -> None:
    quiz = course.column("Quiz", "10")
    rows = _export(course)
    rows[0].append("Ghost (00000000-0000-0000-0000-000000000000)")
    _row(rows, course.student_ids[0])[3] = "ten"
    _row(rows, course.student_ids[1])[3] = "7"
    rows.append(["Nobody", "00000000-0000-0000-0000-000000000001", "", "1"])
    rows.append(list(_row(rows, course.student_ids[2])))
    body = _text(rows)
    found = _preview(course, body)
    messages = {(e["row"], e["message"].split(":")[0]) for e in found["errors"]}
    assert (1, "Unknown column “Ghost (00000000-0000-0000-0000-000000000000)”.") in messages
    assert any(m == "Quiz" for _, m in messages)  # "Quiz: A score must be a number."
    assert (len(rows) - 1, "No such student in this course.") in messages
    assert (len(rows), "This student is on an earlier row too.") in messages
    answer = _apply(course, body, found["version"])
    assert answer.status_code == 422 and answer.json()["errors"]
    assert _row(_export(course), course.student_ids[1])[3] == ""
    assert quiz["id"]


def test_malformed_oversize_and_mistyped_files_are_refused(course: Course) -> None:
    course.column("Quiz", "10")
    path = f"{course.base}/import/preview"
    header = b"Student,ID,Email\r\n"
    for body, headers, status in (
        (b"", CSV, 422),
        (b"\x00\x01\x02binary", CSV, 422),
        (b"\xff\xfe\xfa not utf-8", CSV, 422),
        (b"Student,Name\r\nA,B\r\n", CSV, 422),  # neither ID nor Email
        (header + b'"unterminated,x\r\n', CSV, 422),
        (header + b"x,y,z\r\n" * 5001, CSV, 422),
        (header + b"x" * 1_100_000, CSV, 413),
        (header, {"Content-Type": "application/json"}, 415),
    ):
        answer = course.request(course.teacher, "POST", path, content=body, headers=headers)
        assert answer.status_code == status, (body[:40], answer.status_code, answer.text[:200])
        assert answer.headers["content-type"] == PROBLEM
    # Imports are the instructor's: a TA and a student are refused.
    for token in (course.ta, course.students[0]):
        answer = course.request(token, "POST", path, content=header, headers=CSV)
        assert answer.status_code == 403
    answer = course.request(
        course.teacher, "POST", f"{course.base}/import/apply", content=header, headers=CSV
    )
    assert answer.status_code == 422  # no version
