"""Columns and scores in the shape of IMS LTI Assignment and Grade Services 2.0, so a later
issue can pass grades back to another LMS: a column is a line item (``id``,
``scoreMaximum``, ``label``, ``resourceId``, ``tag``, ``startDateTime``, ``endDateTime``)
and a learner's posted cell an AGS score (``userId``, ``scoreGiven``, ``scoreMaximum``,
``activityProgress``, ``gradingProgress``, ``timestamp``, ``comment``). A cell not posted
yet goes out as ``Pending`` with no score: another LMS sees only released grades."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from lms.gradebook.book import Book
from persistence.models import GradeColumn, GradeScore

LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def line_item(base_url: str, column: GradeColumn) -> dict[str, Any]:
    """The AGS line item of a column (``id`` is its URL on this site)."""
    item: dict[str, Any] = {
        "id": f"{base_url}/api/v1/courses/{column.course_id}/gradebook/lineitems/{column.id}",
        "scoreMaximum": float(column.points_possible),
        "label": column.title,
        "resourceId": str(column.source_id),
        "tag": column.source,
    }
    if column.due_at is not None:
        item["endDateTime"] = _iso(column.due_at)
    return item


def score(column: GradeColumn, user_id: uuid.UUID, row: GradeScore | None) -> dict[str, Any]:
    """The AGS score of a learner's cell as another LMS may see it."""
    posted = row is not None and row.posted_at is not None
    submitted = row is not None and row.submitted_at is not None
    result: dict[str, Any] = {
        "userId": str(user_id),
        "scoreMaximum": float(column.points_possible),
        "activityProgress": "Completed" if submitted else "Initialized",
        "gradingProgress": "NotReady",
        "timestamp": _iso(row.updated_at if row is not None else column.updated_at),
    }
    if row is None:
        return result
    if not posted:
        result["gradingProgress"] = "Pending" if submitted or row.score is not None else "NotReady"
        return result
    if row.excused:
        result["gradingProgress"] = "FullyGraded"
        result["comment"] = "Excused"
    elif row.score is not None:
        result["scoreGiven"] = float(row.score)
        result["gradingProgress"] = "FullyGraded"
    return result


def container(base_url: str, book: Book, columns: list[GradeColumn]) -> list[dict[str, Any]]:
    """Line items of ``columns``, each with its learners' scores (extension ``scores``)."""
    items = []
    for column in columns:
        item = line_item(base_url, column)
        item["scores"] = [score(column, p.id, book.cell(column.id, p.id)) for p in book.learners]
        items.append(item)
    return items
