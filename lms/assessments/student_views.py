"""The student views of an attempt's questions, each computed once per node.

A question's student view (``questions.present``: the prompt, the choices shuffled by the
question's seed, view tokens, no key) depends only on the question version's definition and
the attempt's seed, and neither ever changes: a version is immutable and an attempt keeps
its seed. An exam shows each attempt's twenty views at its start, again in the
submission's answer and on every read of the attempt; computing and serialising them was
a tenth of a submission's CPU. So a node remembers the views it computed (bounded, least
recently used dropped) and hands out the same JSON-ready dicts, which nobody mutates.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Any

from lms.assessments.questions import QuestionDefinition, present

MAX_VIEWS = 40_000
"""Views a node remembers (two thousand attempts of twenty questions; a view is about a
kilobyte)."""

_views: OrderedDict[tuple[uuid.UUID, int, str], dict[str, Any]] = OrderedDict()


def student_view(
    definition: QuestionDefinition, question_id: uuid.UUID, version: int, seed: str
) -> dict[str, Any]:
    """The student view of ``question_id`` at ``version`` (``definition``, parsed) for the
    question's ``seed``, as JSON-ready data; the caller must not change it."""
    key = (question_id, version, seed)
    found = _views.get(key)
    if found is not None:
        _views.move_to_end(key)
        return found
    found = present(definition, seed)[0].model_dump(mode="json")
    _views[key] = found
    if len(_views) > MAX_VIEWS:
        _views.popitem(last=False)
    return found
