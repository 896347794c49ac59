"""Who may do what with banks, quizzes and attempts, on top of the course's one check
(``lms.courses.routes.authorize``): authors edit the course (instructors), graders grade it
(instructors and TAs), learners are its students. The course role is read from the database
on every request, so a role changed after a token was minted counts at once.

A learner who may not see a quiz (unpublished) or an attempt (someone else's) gets 404, as
if it did not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from lms.assessments import attempts, banks, quizzes
from lms.assessments.errors import QuizLocked
from lms.auth import Principal
from lms.content import reach
from lms.courses.roles import CourseAction, CourseRole, may
from lms.courses.routes import authorize
from lms.errors import Forbidden, NotFound
from persistence.models import Course, Question, QuestionBank, Quiz, QuizAttempt


async def author_of_course(
    session: AsyncSession, course_id: uuid.UUID, principal: Principal
) -> Course:
    """The course, if the caller may author its quizzes."""
    course, _ = await authorize(session, course_id, principal, CourseAction.EDIT)
    return course


async def author_of_bank(
    session: AsyncSession, bank_id: uuid.UUID, principal: Principal
) -> QuestionBank:
    """The bank, if the caller may author its course's quizzes."""
    found = await banks.bank(session, bank_id)
    await author_of_course(session, found.course_id, principal)
    return found


async def author_of_question(
    session: AsyncSession, question_id: uuid.UUID, principal: Principal
) -> Question:
    """The question, if the caller may author its course's quizzes."""
    found = await banks.question(session, question_id)
    await author_of_course(session, found.course_id, principal)
    return found


@dataclass(frozen=True)
class QuizAccess:
    """A quiz and the caller's standing in its course."""

    quiz: Quiz
    role: CourseRole | None

    @property
    def staff(self) -> bool:
        """Whether the caller grades this course (sees keys, every attempt, statistics)."""
        return may(self.role, CourseAction.GRADE)

    @property
    def author(self) -> bool:
        """Whether the caller may change the quiz."""
        return may(self.role, CourseAction.EDIT)


# The quiz (or the attempt and its quiz) with its course in one read: ``authorize`` then
# finds the course in the session (no second read) and decides as everywhere else. Starts
# and submissions of a whole exam come through here.
_QUIZ = (
    select(Quiz, Course)
    .join(Course, Course.id == Quiz.course_id)
    .where(Quiz.id == bindparam("quiz", type_=Quiz.id.type))
)
_ATTEMPT = (
    select(QuizAttempt, Quiz, Course)
    .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
    .join(Course, Course.id == Quiz.course_id)
    .where(QuizAttempt.id == bindparam("attempt", type_=QuizAttempt.id.type))
)


async def _with_course(session: AsyncSession, quiz_id: uuid.UUID) -> Quiz:
    """A quiz by id (its course loaded into the session too), or 404."""
    found = (await session.execute(_QUIZ, {"quiz": quiz_id})).one_or_none()
    if found is None:
        raise NotFound("No such quiz.")
    return found[0]


async def quiz_for(
    session: AsyncSession, quiz_id: uuid.UUID, principal: Principal, action: CourseAction
) -> QuizAccess:
    """The quiz if the caller may do ``action`` in its course; learners see published
    quizzes only."""
    found = await _with_course(session, quiz_id)
    _, role = await authorize(session, found.course_id, principal, action)
    shown = QuizAccess(found, role)
    if not shown.staff and not found.published:
        raise NotFound("No such quiz.")
    return shown


async def learner_quiz(session: AsyncSession, quiz_id: uuid.UUID, principal: Principal) -> Quiz:
    """The quiz, if the caller is a student of its course and it is published."""
    shown = await quiz_for(session, quiz_id, principal, CourseAction.VIEW)
    if shown.role != CourseRole.STUDENT:
        raise Forbidden("Quizzes are taken by the course's students.")
    return shown.quiz


async def check_reach(session: AsyncSession, quiz: Quiz, principal: Principal) -> None:
    """Refuse a learner a quiz whose every module is locked for them (``lms.content.reach``,
    as pages and files are refused); a quiz in no module is reached directly."""
    course = await session.get(Course, quiz.course_id)
    if course is None:
        raise NotFound("No such quiz.")
    reason = await reach.lock_of(
        session, course, CourseRole.STUDENT, principal.user_id, "quiz", quiz.id
    )
    if reason is not None:
        raise QuizLocked(reason)


async def attempt_for(
    session: AsyncSession, attempt_id: uuid.UUID, principal: Principal, *, locking: bool = False
) -> tuple[QuizAttempt, QuizAccess]:
    """The attempt, if it is the caller's own or the caller grades its course; anyone
    else is told it does not exist."""
    if locking:
        found = await attempts.locked(session, attempt_id)
        quiz = await quizzes.quiz(session, found.quiz_id)
    else:
        joined = (await session.execute(_ATTEMPT, {"attempt": attempt_id})).one_or_none()
        if joined is None:
            raise NotFound("No such attempt.")
        found, quiz, _ = joined
    try:
        _, role = await authorize(session, quiz.course_id, principal, CourseAction.VIEW)
    except (NotFound, Forbidden):
        raise NotFound("No such attempt.") from None
    shown = QuizAccess(quiz, role)
    if found.user_id != principal.user_id and not shown.staff:
        raise NotFound("No such attempt.")
    return found, shown
