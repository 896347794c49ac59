"""Pure parts of documents: lossless compaction state, content as JSON, restore updates."""

from __future__ import annotations

from typing import Any

import pycrdt

from lms.documents.model import content, restore_update
from persistence.documents import build_doc, encode_state


def notes(doc: pycrdt.Doc[Any]) -> pycrdt.Text:
    return doc.get("notes", type=pycrdt.Text)


def test_compaction_keeps_updates_whose_dependencies_are_missing() -> None:
    writer: pycrdt.Doc[Any] = pycrdt.Doc()
    notes(writer).insert(0, "abc")
    first = writer.get_update()
    before = writer.get_state()
    notes(writer).insert(3, "def")
    del notes(writer)[0:1]
    second = writer.get_update(before)  # depends on `first`
    state = encode_state([second])  # `first` never arrived: everything is pending
    assert str(notes(build_doc([state, first]))) == "bcdef"


def test_compaction_collects_deleted_content() -> None:
    writer: pycrdt.Doc[Any] = pycrdt.Doc()
    updates: list[bytes] = []
    writer.observe(lambda event: updates.append(event.update))
    for _ in range(100):
        notes(writer).insert(0, "x" * 100)
        del notes(writer)[0:100]
    state = encode_state(updates)
    assert len(state) < sum(map(len, updates)) // 100
    assert str(notes(build_doc([state]))) == ""


def test_undecodable_stored_parts_are_skipped_on_load() -> None:
    writer: pycrdt.Doc[Any] = pycrdt.Doc()
    notes(writer).insert(0, "kept")
    assert str(notes(build_doc([b"\xff\xfe", writer.get_update()]))) == "kept"


def test_an_empty_document_reads_as_empty_content() -> None:
    empty = pycrdt.Doc().get_update()
    assert content("notes", empty) == {"text": "", "rich": ""}
    assert content("whiteboard", empty) == {"shapes": [], "meta": {}}


def test_restore_brings_back_text_formatting_rich_text_and_shapes() -> None:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    notes(doc).insert(0, "bold and plain")
    notes(doc).format(0, 4, {"bold": True})
    rich = doc.get("prosemirror", type=pycrdt.XmlFragment)
    heading = rich.children.append(pycrdt.XmlElement("heading", {"level": "1"}))
    heading.children.append(pycrdt.XmlText("Title"))
    shapes = doc.get("shapes", type=pycrdt.Map)
    shapes["a"] = pycrdt.Map({"type": "rect", "points": pycrdt.Array([1, 2])})
    shapes["b"] = {"type": "plain"}
    version = doc.get_update()

    notes(doc).insert(0, "later ")
    del rich.children[0]
    del shapes["a"]
    shapes["c"] = {"type": "new"}
    doc.apply_update(restore_update("notes", doc.get_update(), version))
    doc.apply_update(restore_update("whiteboard", doc.get_update(), version))

    assert notes(doc).diff() == [("bold", {"bold": True}), (" and plain", None)]
    assert str(rich) == '<heading level="1">Title</heading>'
    assert sorted(shapes.keys()) == ["a", "b"]
    assert isinstance(shapes["a"], pycrdt.Map)
    assert isinstance(shapes["a"]["points"], pycrdt.Array)
    assert shapes["b"] == {"type": "plain"}
