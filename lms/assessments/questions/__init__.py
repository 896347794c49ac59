"""Question types as pure code: definitions, student views, responses, grading, shuffling.

Every type (choice, numeric, short answer, blanks, matching, ordering, math, essay, file
upload, Python code) gives a definition an author writes, a view a student may see before
results are released (never the key), a response model, and a grading function; the
registry (``registry.TYPES``) dispatches by the definition's ``type``. Nothing here does
I/O, except that math checks run SymPy in a guarded worker process (``math_guard``).
"""

from lms.assessments.questions.registry import (
    TYPES,
    QuestionDefinition,
    accept,
    as_shown,
    grade,
    parse_definition,
    present,
    receive,
    student_view,
)
from lms.assessments.questions.results import GradeResult, PartResult

__all__ = [
    "TYPES",
    "GradeResult",
    "PartResult",
    "QuestionDefinition",
    "accept",
    "as_shown",
    "grade",
    "parse_definition",
    "present",
    "receive",
    "student_view",
]
