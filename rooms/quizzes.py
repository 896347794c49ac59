"""Live quizzes in the room: a host launches questions, students answer, hosts watch the
histogram fill, then close, reveal the answers to everyone and send the scores to the
course's gradebook.

Keys never reach a student before the reveal: ``quiz.launched`` (everyone) carries the
students' views, ``quiz.keyed`` (hosts only) the author's definitions, which every node
applies so the node a student's answer lands on can grade it. An answer makes two events:
``quiz.answered`` for the student (their answer as received, no credit) and
``quiz.tallied`` for hosts (who, what was picked, the credit). After the reveal a student
asks for their own score with ``quiz.result`` (answered in the ack), so nobody learns
another student's score. Questions are checked and graded by the installed rules
(``rooms/quiz_rules.py``): pure, synchronous question types only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from rooms.dispatch import Context, Outcome
from rooms.errors import Rejected, not_found
from rooms.messages import QuizAnswer, QuizClose, QuizGrade, QuizLaunch, QuizResult, QuizReveal
from rooms.quiz_rules import rules
from rooms.quiz_state import LiveQuiz, QuestionTally
from rooms.state import Event, RoomState

MAX_OPEN_QUIZZES = 3
ALREADY_ANSWERED = Rejected("already-answered", "You have already answered this question.")


def _quiz(ctx: Context, quiz_id: object) -> LiveQuiz:
    found = ctx.state.quizzes.quizzes.get(str(quiz_id))
    if found is None:
        raise not_found("quiz")
    return found


def seed_of(quiz_id: str, question_id: str) -> str:
    """The seed of a question's shuffle: one per quiz and question, the same for everyone."""
    return f"live:{quiz_id}:{question_id}"


def launch(ctx: Context, message: QuizLaunch) -> Outcome:
    """Open a quiz of 1-10 questions, timed or not; everyone sees the questions, hosts the keys."""
    if ctx.state.quizzes.open_count() >= MAX_OPEN_QUIZZES:
        raise Rejected("too-many-quizzes", "Close a quiz before launching another.")
    quiz_id = ctx.new_id()
    keys: dict[str, dict[str, Any]] = {}
    questions: list[dict[str, Any]] = []
    for index, raw in enumerate(message.questions, start=1):
        question_id = f"q{index}"
        definition = rules().check(raw)
        keys[question_id] = definition
        view = rules().view(definition, seed_of(quiz_id, question_id))
        questions.append({"id": question_id, "view": view})
    closes_at = (
        (ctx.now + timedelta(seconds=message.seconds)).isoformat() if message.seconds else None
    )
    points = message.points if message.points is not None else float(len(questions))
    quiz = {
        "id": quiz_id,
        "title": message.title,
        "points": points,
        "questions": questions,
        "created_by": ctx.actor.user_id,
        "launched_at": ctx.at,
        "closes_at": closes_at,
    }
    launched = ctx.event("quiz.launched", quiz=quiz)
    launched["_keys"] = keys  # stored with the quiz row, never published
    keyed = ctx.event("quiz.keyed", quiz_id=quiz_id, keys=keys)
    keyed["audience"] = {"hosts": True}
    return Outcome(events=[launched, keyed], reply={"quiz_id": quiz_id})


def answer(ctx: Context, message: QuizAnswer) -> Outcome:
    """Answer one question once, before the quiz closes; graded now, shown at the reveal."""
    quiz = _quiz(ctx, message.quiz_id)
    if not quiz.accepting(ctx.now):
        raise Rejected("quiz-closed", "This quiz no longer takes answers.")
    key = quiz.keys.get(message.question_id)
    if key is None:
        raise not_found("question")
    user = ctx.actor.user_id
    if message.question_id in quiz.answers.get(user, {}):
        raise ALREADY_ANSWERED
    seed = seed_of(quiz.id, message.question_id)
    response = rules().receive(key, seed, message.response)
    credit = rules().grade(key, response)
    picks = rules().picks(key, response)
    # The student's event shows their answer as they saw it (view tokens: the author's ids
    # of choices may say too much); the stored answer keeps the author's ids.
    answered = ctx.event(
        "quiz.answered",
        quiz_id=quiz.id,
        question_id=message.question_id,
        response=rules().shown(key, seed, response),
    )
    answered["audience"] = {"users": [user]}
    answered["_response"], answered["_credit"], answered["_picks"] = response, credit, picks
    tallied = ctx.event(
        "quiz.tallied",
        quiz_id=quiz.id,
        question_id=message.question_id,
        user_id=user,
        name=ctx.state.participants[user].name,
        picks=picks,
        credit=credit,
    )
    tallied["audience"] = {"hosts": True}
    # Two tabs may answer at once: the store keeps the first answer and refuses the second.
    return Outcome(events=[answered, tallied], refused=ALREADY_ANSWERED)


def close(ctx: Context, message: QuizClose) -> Outcome:
    """Stop taking answers (a timed quiz also stops at its deadline)."""
    quiz = _quiz(ctx, message.quiz_id)
    if quiz.status == "closed":
        return Outcome()
    return Outcome(events=[ctx.event("quiz.closed", quiz_id=quiz.id)])


def reveal(ctx: Context, message: QuizReveal) -> Outcome:
    """Show everyone the keys and the histogram; closes the quiz first if it is open."""
    quiz = _quiz(ctx, message.quiz_id)
    if quiz.revealed:
        return Outcome()
    events = [] if quiz.status == "closed" else [ctx.event("quiz.closed", quiz_id=quiz.id)]
    tallies = {qid: t.view() for qid, t in quiz.tallies.items()}
    events.append(ctx.event("quiz.revealed", quiz_id=quiz.id, keys=quiz.keys, tallies=tallies))
    return Outcome(events=events)


def result(ctx: Context, message: QuizResult) -> Outcome:
    """A student's own answers and score once the quiz is revealed (in the ack only)."""
    quiz = _quiz(ctx, message.quiz_id)
    if not quiz.revealed:
        raise Rejected("not-revealed", "The answers are not shown yet.")
    user = ctx.actor.user_id
    credits = quiz.credits.get(user, {})
    return Outcome(
        reply={
            "quiz_id": quiz.id,
            "score": quiz.score_of(user) if user in quiz.answers else None,
            "points": quiz.points,
            "credits": {qid: credits.get(qid, 0.0) for qid in quiz.question_ids()},
        }
    )


def grade(ctx: Context, message: QuizGrade) -> Outcome:
    """Send the scores to the course's gradebook (a closed quiz of a course's room)."""
    quiz = _quiz(ctx, message.quiz_id)
    if ctx.state.course_id is None:
        raise Rejected("no-course", "This room belongs to no course, so it has no gradebook.")
    if quiz.accepting(ctx.now):
        raise Rejected("quiz-open", "Close the quiz before grading it.")
    event = ctx.event("quiz.graded", quiz_id=quiz.id, students=len(quiz.answers))
    event["audience"] = {"hosts": True}
    # The scores are read from the stored answers by the projection, in its transaction.
    event["_course_id"] = ctx.state.course_id
    return Outcome(events=[event], reply={"students": len(quiz.answers)})


# ------------------------------------------------------------------ reducers


def on_launched(state: RoomState, event: Event) -> None:
    data = event["quiz"]
    if data["id"] in state.quizzes.quizzes:
        return
    state.quizzes.add(
        LiveQuiz(
            id=data["id"],
            title=data["title"],
            points=float(data["points"]),
            questions=list(data["questions"]),
            created_by=data["created_by"],
            launched_at=data["launched_at"],
            closes_at=data["closes_at"],
            keys=dict(event.get("_keys") or {}),
        )
    )


def on_keyed(state: RoomState, event: Event) -> None:
    if quiz := state.quizzes.quizzes.get(event["quiz_id"]):
        quiz.keys = dict(event["keys"])


def on_answered(state: RoomState, event: Event) -> None:
    quiz = state.quizzes.quizzes.get(event["quiz_id"])
    if quiz is None:
        return
    user = event["by"]
    mine = quiz.answers.setdefault(user, {})
    mine.setdefault(event["question_id"], event["response"])


def on_tallied(state: RoomState, event: Event) -> None:
    quiz = state.quizzes.quizzes.get(event["quiz_id"])
    if quiz is None:
        return
    credits = quiz.credits.setdefault(event["user_id"], {})
    question_id = event["question_id"]
    if question_id in credits:
        return
    credits[question_id] = float(event["credit"])
    tally = quiz.tallies.setdefault(question_id, QuestionTally())
    tally.count(float(event["credit"]), list(event["picks"]))


def on_closed(state: RoomState, event: Event) -> None:
    if quiz := state.quizzes.quizzes.get(event["quiz_id"]):
        quiz.status = "closed"


def on_revealed(state: RoomState, event: Event) -> None:
    if quiz := state.quizzes.quizzes.get(event["quiz_id"]):
        quiz.status = "closed"
        quiz.revealed = True
        quiz.keys = dict(event["keys"])


def on_graded(state: RoomState, event: Event) -> None:
    if quiz := state.quizzes.quizzes.get(event["quiz_id"]):
        quiz.graded = True
