"""Live quizzes in the room: launched by a host, answered once by each student, keys and
scores kept from students until the reveal, the histogram for hosts, recovery after a
reconnect, and the scores sent to the course's gradebook (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from kits.nodes import Node, node_sessions
from kits.opener import RoomOpener
from kits.rooms import Person, RoomClient, of, register, rest, settle
from lms.gradebook import history
from lms.gradebook import service as gradebook
from persistence.models import GradeScore

pytestmark = pytest.mark.postgres

SINGLE = {
    "type": "single_choice",
    "prompt": "Which is a prime?",
    "choices": [
        {"id": "four", "text": "4"},
        {"id": "seven", "text": "7"},
        {"id": "nine", "text": "9"},
    ],
    "answer": "seven",
}
NUMERIC = {"type": "numeric", "prompt": "How many sides has a hexagon?", "value": "6"}
QUIZ = {"type": "quiz.launch", "title": "Warm-up", "questions": [SINGLE, NUMERIC], "points": 10}


@dataclass
class Klass:
    node: Node
    course_id: str
    host: Person
    a: Person
    b: Person
    watcher: Person


@pytest.fixture(scope="module")
def klass(node: Node) -> Klass:
    host, a, b, watcher = (
        register(node, "instructor"),
        register(node),
        register(node),
        register(node),
    )

    async def setup() -> str:
        body = {"code": f"LQ-{uuid.uuid4().hex[:8]}", "title": "Number sense"}
        course = (await rest(node, host, "POST", "/api/v1/courses", json=body)).json()
        for person, role in ((a, "student"), (b, "student"), (watcher, "observer")):
            enrolled = await rest(
                node,
                host,
                "POST",
                f"/api/v1/courses/{course['id']}/enrollments",
                json={"email": person.email, "role": role},
            )
            assert enrolled.status_code == 201, enrolled.text
        return str(course["id"])

    return Klass(node, asyncio.run(setup()), host, a, b, watcher)


async def classroom(klass: Klass, open_room: RoomOpener) -> tuple[str, list[RoomClient]]:
    return await open_room(
        klass.host,
        members=[(klass.a, "participant"), (klass.b, "participant"), (klass.watcher, "observer")],
        enter=(klass.host, klass.a, klass.b, klass.watcher),
        course_id=klass.course_id,
    )


def _token_of(view: dict[str, Any], text: str) -> str:
    return next(c["token"] for c in view["choices"] if c["text"] == text)


async def test_a_live_quiz_from_launch_to_the_gradebook(klass: Klass, rooms_on: Any) -> None:
    open_room: RoomOpener = rooms_on(klass.node)
    room, clients = await classroom(klass, open_room)
    host, a, b, watcher = clients
    quiz_id = (await host.ack(QUIZ))["quiz_id"]

    # Everyone gets the questions; only hosts get the keys.
    launched = [await c.next(of("quiz.launched")) for c in clients]
    quiz = launched[1]["quiz"]
    assert [q["id"] for q in quiz["questions"]] == ["q1", "q2"]
    assert (quiz["title"], quiz["points"], quiz["closes_at"]) == ("Warm-up", 10, None)
    keyed = await host.next(of("quiz.keyed"))
    assert keyed["keys"]["q1"]["answer"] == "seven"
    await settle(host, a, b, watcher)
    for student in (a, b, watcher):
        assert student.received(of("quiz.keyed")) == []
        seen = json.dumps([m for m in student.log if m.get("type", "").startswith("quiz.")])
        assert "seven" not in seen and '"6"' not in seen and '"value"' not in seen
    view = quiz["questions"][0]["view"]
    right, wrong = _token_of(view, "7"), _token_of(view, "9")

    # Each student answers each question once; observers may not answer.
    answer = {"type": "quiz.answer", "quiz_id": quiz_id}
    await a.ack({**answer, "question_id": "q1", "response": {"choice": right}})
    await a.ack({**answer, "question_id": "q2", "response": {"answer": "5"}})
    await b.ack({**answer, "question_id": "q1", "response": {"choice": wrong}})
    await a.error(
        {**answer, "question_id": "q1", "response": {"choice": wrong}}, "already-answered"
    )
    await b.error({**answer, "question_id": "q7", "response": {"answer": "1"}}, "not-found")
    await b.error({**answer, "question_id": "q1x", "response": {}}, "invalid-message")
    await b.error({**answer, "question_id": "q2", "response": {"choice": right}}, "invalid")
    await b.error({**answer, "question_id": "q2", "response": {"answer": 6}}, "invalid")
    await watcher.error({**answer, "question_id": "q1", "response": {"choice": right}}, "forbidden")
    await a.error({**QUIZ}, "forbidden")
    # The student sees their answer confirmed, never its credit; hosts see the tally.
    mine = await a.next(of("quiz.answered", question_id="q1"))
    assert mine["response"] == {"choice": right} and "credit" not in mine
    tallies = [await host.next(of("quiz.tallied")) for _ in range(3)]
    assert sorted((t["user_id"] == a.user_id, t["question_id"], t["credit"]) for t in tallies) == [
        (False, "q1", 0.0),
        (True, "q1", 1.0),
        (True, "q2", 0.0),
    ]
    await settle(host, a, b, watcher)
    assert b.received(of("quiz.answered", by=a.user_id)) == []
    assert b.received(of("quiz.tallied")) == []
    await a.error({"type": "quiz.result", "quiz_id": quiz_id}, "not-revealed")
    # A student's answers are in their privacy export.
    exported = (await rest(klass.node, klass.a, "GET", "/api/v1/users/me/export")).json()
    mine = [e for e in exported["rooms"]["live_quiz_answers"] if e["quiz_id"] == quiz_id]
    assert sorted((e["question_id"], e["credit"]) for e in mine) == [("q1", 1.0), ("q2", 0.0)]

    # A reconnecting student gets their answers back, without keys or tallies; a host the
    # histogram.
    await a.close()
    a = await open_room.enter(klass.a, room)
    [again] = a.snapshot["quizzes"]
    assert again["my_answers"] == {"q1": {"choice": right}, "q2": {"answer": "5"}}
    assert "keys" not in again and "tallies" not in again
    hosted = await open_room.enter(klass.host, room)
    [shown] = hosted.snapshot["quizzes"]
    assert shown["tallies"]["q1"] == {
        "answered": 2,
        "correct": 1,
        "partial": 0,
        "picks": {"seven": 1, "nine": 1},
    }

    # Grading waits for the quiz to close; the reveal closes it and shows everyone.
    await host.error({"type": "quiz.grade", "quiz_id": quiz_id}, "quiz-open")
    await host.ack({"type": "quiz.reveal", "quiz_id": quiz_id})
    for client in (host, a, b, watcher):
        revealed = await client.next(of("quiz.revealed"))
        assert revealed["keys"]["q1"]["answer"] == "seven"
        assert revealed["tallies"]["q1"]["correct"] == 1
    await b.error({**answer, "question_id": "q2", "response": {"answer": "6"}}, "quiz-closed")
    result = await a.ack({"type": "quiz.result", "quiz_id": quiz_id})
    assert (result["score"], result["points"], result["credits"]) == (
        5.0,
        10,
        {"q1": 1.0, "q2": 0.0},
    )
    assert (await b.ack({"type": "quiz.result", "quiz_id": quiz_id}))["score"] == 0.0
    assert (await watcher.ack({"type": "quiz.result", "quiz_id": quiz_id}))["score"] is None

    # To the gradebook: a column for the quiz, each student's score with its reason.
    await b.error({"type": "quiz.grade", "quiz_id": quiz_id}, "forbidden")
    assert (await host.ack({"type": "quiz.grade", "quiz_id": quiz_id}))["students"] == 2
    scores = await _gradebook(klass, quiz_id)
    assert scores == {klass.a.user_id: "5.00", klass.b.user_id: "0.00"}


async def _gradebook(klass: Klass, quiz_id: str) -> dict[str, str]:
    """The quiz's scores in the gradebook, once the consumer has written them."""
    async with node_sessions(klass.node) as sessions:
        for _ in range(300):
            async with sessions() as session:
                column = await gradebook.column_for(
                    session, source="live_quiz", source_id=uuid.UUID(quiz_id)
                )
                if column is not None:
                    rows = await session.execute(
                        select(GradeScore).where(GradeScore.column_id == column)
                    )
                    found = {str(r.user_id): str(r.score) for r in rows.scalars()}
                    if len(found) == 2:
                        page = await history.changes(
                            session, uuid.UUID(klass.course_id), column_id=column
                        )
                        assert {c.reason for c in page.items} == {"live quiz in class"}
                        return found
            await asyncio.sleep(0.1)
    raise AssertionError("the live quiz never reached the gradebook")


async def test_timed_quizzes_stop_at_their_deadline_and_bad_quizzes_are_refused(
    klass: Klass, rooms_on: Any
) -> None:
    open_room: RoomOpener = rooms_on(klass.node)
    _, clients = await classroom(klass, open_room)
    host, a, b, _watcher = clients
    # Questions the room cannot grade by itself, malformed ones and too many are refused.
    essay = {"type": "essay", "prompt": "Discuss."}
    await host.error({**QUIZ, "questions": [essay]}, "invalid-question")
    await host.error({**QUIZ, "questions": [{"type": "single_choice"}]}, "invalid-question")
    await host.error({**QUIZ, "questions": [{**SINGLE, "answer": "ten"}]}, "invalid-question")
    await host.error({**QUIZ, "questions": [SINGLE] * 11}, "invalid-message")
    await host.error({**QUIZ, "questions": []}, "invalid-message")
    deep: Any = {"x": 1}
    for _ in range(200):
        deep = {"x": deep}
    await host.error({**QUIZ, "questions": [{**SINGLE, "extra": deep}]}, "invalid-question")
    await host.error({**QUIZ, "seconds": 5}, "invalid-message")
    await a.error({"type": "quiz.close", "quiz_id": str(uuid.uuid4())}, "forbidden")
    await host.error({"type": "quiz.close", "quiz_id": str(uuid.uuid4())}, "not-found")

    timed = (await host.ack({**QUIZ, "seconds": 10}))["quiz_id"]
    launched = await a.next(of("quiz.launched"))
    assert launched["quiz"]["closes_at"] is not None
    await a.ack(
        {"type": "quiz.answer", "quiz_id": timed, "question_id": "q2", "response": {"answer": "6"}}
    )
    await asyncio.sleep(10.5)
    late = {
        "type": "quiz.answer",
        "quiz_id": timed,
        "question_id": "q2",
        "response": {"answer": "6"},
    }
    await b.error(late, "quiz-closed")
    # Past its deadline a quiz can be graded without closing it by hand.
    assert (await host.ack({"type": "quiz.grade", "quiz_id": timed}))["students"] == 1


async def test_a_room_outside_a_course_has_no_gradebook(klass: Klass, rooms_on: Any) -> None:
    open_room: RoomOpener = rooms_on(klass.node)
    _, clients = await open_room(
        klass.host, members=[(klass.a, "participant")], enter=(klass.host, klass.a)
    )
    host, _a = clients
    quiz_id = (await host.ack(QUIZ))["quiz_id"]
    await host.ack({"type": "quiz.close", "quiz_id": quiz_id})
    await host.error({"type": "quiz.grade", "quiz_id": quiz_id}, "no-course")
