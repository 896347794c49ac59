"""Every question type by name, and the functions later layers call without knowing types.

``TYPES`` maps a type name to its ``QuestionType``; ``QuestionDefinition`` is the union of
definitions discriminated on ``type``. Quizzes, attempts and regrades go through the
functions here: parse a definition, show a student their view for a seed, take an answer
in view tokens and keep it in author ids, grade it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from lms.assessments.errors import InvalidQuestion, InvalidResponse, UnknownQuestionType
from lms.assessments.questions.base import Response, View
from lms.assessments.questions.blanks import FILL_BLANKS, FillBlanks
from lms.assessments.questions.choice import (
    MULTIPLE_CHOICE,
    SINGLE_CHOICE,
    TRUE_FALSE,
    MultipleChoice,
    SingleChoice,
    TrueFalse,
)
from lms.assessments.questions.kinds import QuestionType
from lms.assessments.questions.manual import ESSAY, FILE_UPLOAD, Essay, FileUpload
from lms.assessments.questions.matching import MATCHING, Matching
from lms.assessments.questions.math_answer import MATH, MathAnswer
from lms.assessments.questions.numeric import NUMERIC, Numeric
from lms.assessments.questions.ordering import ORDERING, Ordering
from lms.assessments.questions.python_code import PYTHON_CODE, PythonCode
from lms.assessments.questions.results import GradeResult
from lms.assessments.questions.shuffle import Presentation
from lms.assessments.questions.text import SHORT_ANSWER, ShortAnswer

QuestionDefinition = Annotated[
    SingleChoice
    | MultipleChoice
    | TrueFalse
    | Numeric
    | ShortAnswer
    | FillBlanks
    | Matching
    | Ordering
    | MathAnswer
    | Essay
    | FileUpload
    | PythonCode,
    Field(discriminator="type"),
]
"""Any question definition, told apart by its ``type``."""

_ALL: tuple[QuestionType[Any, Any], ...] = (
    SINGLE_CHOICE,
    MULTIPLE_CHOICE,
    TRUE_FALSE,
    NUMERIC,
    SHORT_ANSWER,
    FILL_BLANKS,
    MATCHING,
    ORDERING,
    MATH,
    ESSAY,
    FILE_UPLOAD,
    PYTHON_CODE,
)
TYPES: Mapping[str, QuestionType[Any, Any]] = MappingProxyType({kind.name: kind for kind in _ALL})
"""Every question type by its name (the ``type`` of its definitions)."""

_DEFINITION: TypeAdapter[QuestionDefinition] = TypeAdapter(QuestionDefinition)


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Each error with its place (``loc``, the type tag first) and, as every other problem
    names a field, ``field`` (``definition.choices.1.text``: the path in the request body
    after the type tag) and ``message``, so a form can show it beside its input."""
    found = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = list(error["loc"])
        path = ".".join(str(part) for part in ["definition", *loc[1:]])
        message = error["msg"].removeprefix("Value error, ")
        found.append(
            {
                "loc": loc,
                "msg": error["msg"],
                "type": error["type"],
                "field": path,
                "message": message,
            }
        )
    return found


def parse_definition(data: object) -> QuestionDefinition:
    """The definition ``data`` (decoded JSON) describes; ``InvalidQuestion`` says why not."""
    kind = data.get("type") if isinstance(data, dict) else None
    if isinstance(kind, str) and kind not in TYPES:
        raise UnknownQuestionType(f"no question type {kind!r}")
    try:
        return _DEFINITION.validate_python(data)
    except ValidationError as exc:
        raise InvalidQuestion("the question is not valid", errors=_errors(exc)) from None


def question_type(definition: QuestionDefinition) -> QuestionType[Any, Any]:
    """The type of ``definition``."""
    return TYPES[definition.type]


def present(definition: QuestionDefinition, seed: str) -> tuple[View, Presentation]:
    """The student's view for ``seed`` and the token mapping that stays on the server."""
    return question_type(definition).present(definition, seed)


def student_view(definition: QuestionDefinition, seed: str) -> View:
    """What the browser may get before results are released: no key, no feedback."""
    return present(definition, seed)[0]


def accept(definition: QuestionDefinition, data: object) -> Response:
    """A response naming parts by author ids (no shuffling: e.g. a live quiz), checked."""
    kind = question_type(definition)
    try:
        response: Response = kind.response.model_validate(data)
    except ValidationError as exc:
        raise InvalidResponse("the answer is not valid", errors=_errors(exc)) from None
    kind.check(definition, response)
    return response


def receive(definition: QuestionDefinition, seed: str, data: object) -> Response:
    """A response as the browser sends it (view tokens for ``seed``), validated, refused if
    it names a token the view did not show, and returned in author ids: store this one, so
    a regrade after the key changes still reads it right."""
    kind = question_type(definition)
    try:
        shown: Response = kind.response.model_validate(data)
    except ValidationError as exc:
        raise InvalidResponse("the answer is not valid", errors=_errors(exc)) from None
    mapping = present(definition, seed)[1]
    canonical: Response = kind.translate(shown, mapping.to_canonical())
    kind.check(definition, canonical)
    return canonical


def as_shown(definition: QuestionDefinition, seed: str, response: Response) -> Response:
    """A stored response (author ids) in the view tokens of ``seed``, to show it again after
    a reload; parts the question no longer has are left out."""
    kind = question_type(definition)
    mapping = present(definition, seed)[1]
    shown: Response = kind.translate(response, mapping.to_view())
    return shown


def grade(definition: QuestionDefinition, response: Response) -> GradeResult:
    """Grade a response in author ids; never raises on a response its model accepts."""
    return question_type(definition).grade(definition, response)
