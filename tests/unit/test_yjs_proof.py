"""The structural check of Yjs updates and the trial-copy proof (realtime/yjs/update_format.py,
realtime/yjs/yrs.py, realtime/yjs/nesting.py): panicking updates never reach a document."""

from __future__ import annotations

from typing import Any

import pycrdt
import pytest

from kits.poison import string_item
from realtime.yjs import yrs
from realtime.yjs.lib0 import encode_var_uint as v
from realtime.yjs.nesting import depth_policy, nesting_depth
from realtime.yjs.update_format import (
    InvalidUpdate,
    StructureLimits,
    UpdateTooComplex,
    inspect_update,
)


def text_doc(text: str, client_id: int = 7) -> pycrdt.Doc[Any]:
    doc: pycrdt.Doc[Any] = pycrdt.Doc(client_id=client_id)
    doc.get("notes", type=pycrdt.Text).insert(0, text)
    return doc


def text(doc: pycrdt.Doc[Any]) -> str:
    return str(doc.get("notes", type=pycrdt.Text))


def every_content_kind() -> bytes:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    shapes = doc.get("m", type=pycrdt.Map)
    shapes["json"] = {"a": [1, 2.5, {"b": None, "c": True, "d": "s"}], "e": b"bytes", "n": -5}
    shapes["nested"] = pycrdt.Map({"inner": pycrdt.Array([1, 2**40, -(2**40)])})
    notes = doc.get("t", type=pycrdt.Text)
    notes += "héllo 😀 world"
    notes.format(0, 3, {"bold": True})
    del notes[0:3]  # "hé": pycrdt counts UTF-8 bytes; 0:2 would cut the "é" in half
    rich = doc.get("x", type=pycrdt.XmlFragment)
    rich.children.append(pycrdt.XmlElement("p", {"class": "a"}))
    return doc.get_update()


def test_real_updates_of_every_content_kind_pass() -> None:
    shape = inspect_update(every_content_kind())
    assert shape.structs > 5 and shape.deletes == 1 and shape.nested_types
    assert shape.depth == 3  # {"a": [ {…} ]}


def test_a_struct_past_the_clock_space_is_refused() -> None:
    with pytest.raises(InvalidUpdate, match="2\\*\\*31 - 1"):
        inspect_update(string_item(7, 2**31 - 2, "hi"))
    inspect_update(string_item(7, 2**31 - 3, "hi"))  # ends exactly at 2**31 - 1: fine


def test_a_delete_range_past_the_clock_space_is_refused() -> None:
    update = v(0) + v(1) + v(7) + v(1) + v(2**32 - 2) + v(10)
    with pytest.raises(InvalidUpdate, match="delete range"):
        inspect_update(update)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x01", b"\x01\x01\x07\x00\x04", b"\x00\x00\x00", b"\x01\x01\x07\x00\x1f\x00"],
)
def test_truncated_or_unknown_bytes_are_invalid(data: bytes) -> None:
    with pytest.raises(InvalidUpdate):
        inspect_update(data)


def test_deep_values_and_many_elements_are_too_complex() -> None:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    deep: dict[str, Any] = {}
    cursor = deep
    for _ in range(70):
        cursor["n"] = {}
        cursor = cursor["n"]
    doc.get("m", type=pycrdt.Map)["deep"] = deep
    with pytest.raises(UpdateTooComplex, match="64 levels"):
        inspect_update(doc.get_update())
    assert inspect_update(doc.get_update(), StructureLimits(max_depth=80)).depth == 71
    many: pycrdt.Doc[Any] = pycrdt.Doc()
    many.get("a", type=pycrdt.Array).extend(list(range(5000)))
    with pytest.raises(UpdateTooComplex, match="elements"):
        inspect_update(many.get_update(), StructureLimits(max_elements=1000))


def test_a_yrs_panic_is_invalid_input_not_a_base_exception() -> None:
    doc = text_doc("hello world")
    with pytest.raises(InvalidUpdate, match="CRDT engine"):
        yrs.apply(doc, string_item(7, 2**32 - 1, "hi"))


def test_the_trial_copy_takes_the_panic_and_the_live_document_is_untouched() -> None:
    live = text_doc("hello world")
    trial = yrs.TrialDocument(live)
    with pytest.raises(InvalidUpdate):
        trial.prove(string_item(7, 2**32 - 1, "hi"))
    assert text(live) == "hello world"
    good = string_item(7, 11, "!")
    trial.prove(good)  # the copy was rebuilt from the live document
    yrs.apply(live, good)
    assert text(live) == "!hello world"  # no origin: at the start


def test_build_skips_and_reports_parts_that_do_not_apply() -> None:
    base = text_doc("hello world")
    parts = [base.get_update(), string_item(7, 2**32 - 1, "x"), string_item(7, 11, "!"), b"\xff"]
    doc, bad = yrs.build(parts)
    assert bad == [1, 3]
    assert text(doc) == "!hello world"


def test_nested_shared_types_are_measured_without_recursion() -> None:
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    cursor = doc.get("shapes", type=pycrdt.Map)
    for _ in range(40):
        child: pycrdt.Map[Any] = pycrdt.Map()
        cursor["n"] = child
        cursor = child
    roots = {"shapes": pycrdt.Map}
    assert nesting_depth(doc, roots, limit=100) == 40
    assert nesting_depth(doc, roots, limit=10) == 11  # stops just past the limit
    with pytest.raises(UpdateTooComplex):
        depth_policy(roots, 32)(doc)
    depth_policy(roots, 40)(doc)
