"""A room's live quizzes as every node holds them: questions, keys, answers, tallies.

The key (each question's author definition) reaches every node through ``quiz.keyed``,
an event for hosts only, so whichever node a student's answer lands on can grade it; a
student's connection never receives it before ``quiz.revealed``. Tallies are counted
here from ``quiz.tallied`` (hosts only too), so hosts joining late, or any node, see the
same histogram.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_QUIZZES = 20
"""Quizzes a room keeps in memory (the newest; older ones stay in the database)."""


@dataclass
class QuestionTally:
    """How one question was answered: by choice picked, and by credit."""

    answered: int = 0
    correct: int = 0
    partial: int = 0
    picks: dict[str, int] = field(default_factory=dict)

    def count(self, credit: float, picks: list[str]) -> None:
        """Add one answer."""
        self.answered += 1
        if credit >= 1:
            self.correct += 1
        elif credit > 0:
            self.partial += 1
        for pick in picks:
            self.picks[pick] = self.picks.get(pick, 0) + 1

    def view(self) -> dict[str, Any]:
        """The tally as hosts (and everyone after the reveal) see it."""
        return {
            "answered": self.answered,
            "correct": self.correct,
            "partial": self.partial,
            "picks": dict(self.picks),
        }


@dataclass
class LiveQuiz:
    """One quiz launched in the room."""

    id: str
    title: str
    points: float
    questions: list[dict[str, Any]]
    """Each question as students see it: ``{"id", "view"}``."""
    created_by: str
    launched_at: str
    closes_at: str | None
    status: str = "open"
    revealed: bool = False
    graded: bool = False
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The author's definition of each question by question id (hosts' event)."""
    tallies: dict[str, QuestionTally] = field(default_factory=dict)
    answers: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """Each student's answers: user id -> question id -> response (author ids)."""
    credits: dict[str, dict[str, float]] = field(default_factory=dict)
    """Each student's credit per question (hosts' event; never shown to another student)."""

    def question_ids(self) -> list[str]:
        """The quiz's question ids in order."""
        return [q["id"] for q in self.questions]

    def accepting(self, now: datetime) -> bool:
        """Whether an answer sent at ``now`` counts."""
        if self.status != "open":
            return False
        return self.closes_at is None or now < datetime.fromisoformat(self.closes_at)

    def score_of(self, user_id: str) -> float:
        """A student's score in points: the mean credit of all questions times the points."""
        credits = self.credits.get(user_id, {})
        if not self.questions:
            return 0.0
        total = sum(credits.get(qid, 0.0) for qid in self.question_ids())
        return round(self.points * total / len(self.questions), 2)

    def view(self, *, host: bool, viewer: str) -> dict[str, Any]:
        """The quiz as ``viewer`` sees it: tallies and keys for hosts, or for everyone once
        revealed; the viewer's own answers, and their score once revealed."""
        shown: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "points": self.points,
            "questions": self.questions,
            "created_by": self.created_by,
            "launched_at": self.launched_at,
            "closes_at": self.closes_at,
            "status": self.status,
            "revealed": self.revealed,
            "graded": self.graded,
            "my_answers": self.answers.get(viewer, {}),
        }
        if host or self.revealed:
            shown["keys"] = self.keys
            shown["tallies"] = {qid: t.view() for qid, t in self.tallies.items()}
        if self.revealed:
            shown["my_score"] = self.score_of(viewer) if viewer in self.answers else None
        return shown


@dataclass
class QuizBook:
    """The room's quizzes, newest last."""

    quizzes: dict[str, LiveQuiz] = field(default_factory=dict)

    def add(self, quiz: LiveQuiz) -> None:
        """Keep ``quiz``, forgetting the oldest beyond ``MAX_QUIZZES``."""
        self.quizzes[quiz.id] = quiz
        while len(self.quizzes) > MAX_QUIZZES:
            del self.quizzes[next(iter(self.quizzes))]

    def open_count(self) -> int:
        """Quizzes still taking answers (by status; a passed deadline is checked per answer)."""
        return sum(q.status == "open" for q in self.quizzes.values())

    def views(self, *, host: bool, viewer: str) -> list[dict[str, Any]]:
        """Every quiz as ``viewer`` sees it."""
        return [q.view(host=host, viewer=viewer) for q in self.quizzes.values()]
