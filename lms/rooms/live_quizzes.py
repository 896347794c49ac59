"""Live quizzes, the platform's side: the question rules the room channel runs quizzes
with (``rooms/quiz_rules.py``), and the consumer that writes a graded live quiz into its
course's gradebook (``live_quiz.graded``).

Only question types graded by pure code in microseconds run live (the room's command path
is no place for SymPy's worker, the code sandbox or a person): choice, true/false,
numeric, short answer, fill in the blanks, matching and ordering.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jobs.events import Consumer, Event
from lms.assessments.errors import InvalidQuestion, InvalidResponse
from lms.assessments.questions import registry
from lms.courses.roles import CourseRole
from lms.gradebook import service as gradebook
from persistence.models import Enrollment
from rooms.domain_events import LIVE_QUIZ_GRADED, LiveQuizGraded
from rooms.errors import Rejected

LIVE_TYPES = frozenset(
    {
        "single_choice",
        "multiple_choice",
        "true_false",
        "numeric",
        "short_answer",
        "fill_blanks",
        "matching",
        "ordering",
    }
)
GRADED_REASON = "live quiz in class"


def _first_error(exc: InvalidQuestion | InvalidResponse) -> str:
    errors = exc.errors
    if not errors:
        return str(exc)
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "question"
    return f"{exc}: {where}: {first.get('msg', '')}"[:300]


def _definition(data: object) -> registry.QuestionDefinition:
    try:
        return registry.parse_definition(data)
    except InvalidQuestion as exc:
        raise Rejected("invalid-question", _first_error(exc)) from None


class LiveRules:
    """``rooms.quiz_rules.QuizRules`` over the assessments' question core."""

    def check(self, definition: object) -> dict[str, Any]:
        """The definition validated; only the types graded live are accepted."""
        kind = definition.get("type") if isinstance(definition, dict) else None
        if kind not in LIVE_TYPES:
            allowed = ", ".join(sorted(LIVE_TYPES))
            raise Rejected("invalid-question", f"A live quiz question is one of: {allowed}.")
        return _definition(definition).model_dump(mode="json")

    def view(self, definition: dict[str, Any], seed: str) -> dict[str, Any]:
        """The students' view (shuffled for ``seed``, no key)."""
        return registry.student_view(_definition(definition), seed).model_dump(mode="json")

    def receive(self, definition: dict[str, Any], seed: str, data: object) -> dict[str, Any]:
        """The answer in the author's ids, or ``Rejected``."""
        try:
            response = registry.receive(_definition(definition), seed, data)
        except InvalidResponse as exc:
            raise Rejected("invalid", _first_error(exc)) from None
        return response.model_dump(mode="json")

    def shown(
        self, definition: dict[str, Any], seed: str, response: dict[str, Any]
    ) -> dict[str, Any]:
        """The stored answer in the view's tokens (what the student picked, as they saw it)."""
        parsed = _definition(definition)
        stored = registry.accept(parsed, response)
        return registry.as_shown(parsed, seed, stored).model_dump(mode="json")

    def grade(self, definition: dict[str, Any], response: dict[str, Any]) -> float:
        """The credit, 0 to 1."""
        parsed = _definition(definition)
        return registry.grade(parsed, registry.accept(parsed, response)).credit

    def picks(self, definition: dict[str, Any], response: dict[str, Any]) -> list[str]:
        """The choices picked (true/false as "true" or "false"), for the histogram."""
        if definition.get("type") == "single_choice":
            return [response["choice"]] if response.get("choice") else []
        if definition.get("type") == "multiple_choice":
            return [str(choice) for choice in response.get("choices", [])]
        if definition.get("type") == "true_false" and response.get("answer") is not None:
            return ["true" if response["answer"] else "false"]
        return []


RULES = LiveRules()


async def _students(session: AsyncSession, event: LiveQuizGraded) -> set[Any]:
    found = await session.execute(
        select(Enrollment.user_id).where(
            Enrollment.course_id == event.course_id,
            Enrollment.role == CourseRole.STUDENT.value,
        )
    )
    return set(found.scalars())


async def record_in_gradebook(session: AsyncSession, event: Event) -> None:
    """A column for the quiz in its course's gradebook, and each enrolled student's score
    (students who answered nothing get none: the column shows them as not submitted)."""
    payload = event.payload
    assert isinstance(payload, LiveQuizGraded)
    column = await gradebook.ensure_column(
        session,
        course_id=payload.course_id,
        source="live_quiz",
        source_id=payload.quiz_id,
        title=payload.title,
        points_possible=Decimal(str(payload.points)),
        due_at=payload.graded_at,
    )
    students = await _students(session, payload)
    for entry in payload.scores:
        if entry.user_id not in students:
            continue
        await gradebook.record_score(
            session,
            column_id=column,
            user_id=entry.user_id,
            score=Decimal(str(entry.score)),
            actor_id=payload.graded_by,
            reason=GRADED_REASON,
            submitted_at=payload.graded_at,
        )


GRADEBOOK = Consumer("gradebook.live_quiz_graded", (LIVE_QUIZ_GRADED.name,), record_in_gradebook)


def consumers() -> list[Consumer]:
    """The consumers this module declares (the node registers them)."""
    return [GRADEBOOK]
