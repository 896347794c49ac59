"""The live quizzes' server-to-client events, one model per kind (see ``rooms/events.py``).

``quiz.launched`` (everyone) carries the students' views of the questions; ``quiz.keyed``
(hosts) the author's definitions; ``quiz.answered`` goes to the student who answered,
``quiz.tallied`` to the hosts (who, what was picked, the credit); ``quiz.closed``,
``quiz.revealed`` (keys and histogram for everyone) and ``quiz.graded`` (hosts: the scores
went to the gradebook) follow. A question's view and definition are the question types'
own shapes (docs/protocol.md, "Live quizzes").
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict

from rooms.events import NULLABLE, Sequenced


class QuizQuestion(BaseModel):
    """A question as students see it: its id in the quiz and the key-free view."""

    model_config = ConfigDict(extra="forbid")
    id: str
    view: dict[str, Any]


class QuestionTally(BaseModel):
    """How a question was answered: counts by credit and by choice picked (author ids)."""

    model_config = ConfigDict(extra="forbid")
    answered: int
    correct: int
    partial: int
    picks: dict[str, int]


class NewQuiz(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    points: float
    questions: list[QuizQuestion]
    created_by: str
    launched_at: str
    closes_at: Annotated[str | None, NULLABLE]


class QuizView(NewQuiz):
    """A quiz in the snapshot as one viewer sees it: ``keys`` and ``tallies`` for hosts or
    for everyone once revealed; ``my_score`` once revealed (null: did not answer)."""

    status: Literal["open", "closed"]
    revealed: bool
    graded: bool
    my_answers: dict[str, dict[str, Any]]
    keys: dict[str, dict[str, Any]] | None = None
    tallies: dict[str, QuestionTally] | None = None
    my_score: Annotated[float | None, NULLABLE] = None


class QuizLaunched(Sequenced):
    type: Literal["quiz.launched"]
    quiz: NewQuiz


class QuizKeyed(Sequenced):
    type: Literal["quiz.keyed"]
    quiz_id: str
    keys: dict[str, dict[str, Any]]


class QuizAnswered(Sequenced):
    type: Literal["quiz.answered"]
    quiz_id: str
    question_id: str
    response: dict[str, Any]


class QuizTallied(Sequenced):
    type: Literal["quiz.tallied"]
    quiz_id: str
    question_id: str
    user_id: str
    name: str
    picks: list[str]
    credit: float


class QuizClosed(Sequenced):
    type: Literal["quiz.closed"]
    quiz_id: str


class QuizRevealed(Sequenced):
    type: Literal["quiz.revealed"]
    quiz_id: str
    keys: dict[str, dict[str, Any]]
    tallies: dict[str, QuestionTally]


class QuizGraded(Sequenced):
    type: Literal["quiz.graded"]
    quiz_id: str
    students: int
