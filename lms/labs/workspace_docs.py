"""A learner's workspace as a Yjs document, and the server's own edits of it.

One document per workspace, ``labs/{lab_id}/workspaces/{user_id}``, each file a *root*
``Y.Text`` named ``file:{name}``. One document (rather than one per file) means one socket
per learner and one broker channel per workspace, which is what the instructor's grid
follows; root texts (rather than a ``Y.Map`` of ``Y.Text``) are created idempotently by
every client under the same name, where two clients adding the same map entry at once would
each make their own text and one would win, losing the other's typing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

import pycrdt

from realtime.yjs.nesting import existing_root

PREFIX = "labs/"
FILE_ROOT = "file:"
WORKSPACE = re.compile(r"labs/(?P<lab>[0-9a-f-]{36})/workspaces/(?P<user>[0-9a-f-]{36})")
THUMBNAIL_LINES = 6
THUMBNAIL_CHARS = 400


def document_name(lab_id: uuid.UUID, user_id: uuid.UUID) -> str:
    """The Yjs document of a learner's workspace."""
    return f"labs/{lab_id}/workspaces/{user_id}"


def parse(name: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(lab id, user id) of a workspace document's name, or None."""
    found = WORKSPACE.fullmatch(name)
    if found is None:
        return None
    try:
        lab_id, user_id = uuid.UUID(found["lab"]), uuid.UUID(found["user"])
    except ValueError:
        return None
    return (lab_id, user_id) if name == document_name(lab_id, user_id) else None


def read_file(doc: pycrdt.Doc[Any], name: str) -> str:
    """The text of one file of a workspace ("" if it has none yet)."""
    text = existing_root(doc, FILE_ROOT + name, pycrdt.Text)
    return "" if text is None else str(text)


def thumbnail(text: str) -> tuple[str, int]:
    """The first lines of a file (capped) and how many lines it has."""
    lines = text.split("\n")
    head = "\n".join(lines[:THUMBNAIL_LINES])[:THUMBNAIL_CHARS]
    return head, len(lines) if text else 0


def template_update(files: Sequence[dict[str, Any]]) -> bytes:
    """The update that fills an empty workspace with the template's files."""
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    with doc.transaction():
        for file in files:
            text = doc.get(FILE_ROOT + str(file["name"]), type=pycrdt.Text)
            if file.get("text"):
                text.insert(0, str(file["text"]))
    return doc.get_update()


def reset_update(current: pycrdt.Doc[Any], files: Sequence[dict[str, Any]]) -> bytes:
    """The update that puts the template's text back in every template file of a workspace
    (its history stays: this is an edit like any other)."""
    copy: pycrdt.Doc[Any] = pycrdt.Doc()
    copy.apply_update(current.get_update())
    before = copy.get_state()
    with copy.transaction():
        for file in files:
            text = copy.get(FILE_ROOT + str(file["name"]), type=pycrdt.Text)
            if len(text):
                text.clear()
            if file.get("text"):
                text.insert(0, str(file["text"]))
    return copy.get_update(before)
