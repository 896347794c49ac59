"""Cohorts on a real node, on SQLite and PostgreSQL: pacing honoured in the learner's
content, joining with a code (and a flood of bad codes throttled), capacity, invitations
e-mailed through a real SMTP server, CSV import previewed and applied atomically,
transfers with history (and refused across courses), a cohort room only its members
enter, announcements notified, the dashboard and its CSV, and strangers kept out."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from cohorts_kit import Course, problem

from kits.nodes import Node
from kits.smtp import SmtpServer

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def course(cohort_node: Node) -> Course:
    return Course(cohort_node)


def today() -> date:
    return datetime.now(UTC).date()


def paced(course: Course, **fields: Any) -> dict[str, Any]:
    """A cohort that started today: week 1 now, week 2 in 7 days, week 3 in 14."""
    pacing = [
        {"module_id": m["id"], "offset_days": d}
        for m, d in zip(course.modules, (0, 7, 14), strict=True)
    ]
    start = today() - timedelta(days=1)  # local midnight of "today" may not have come yet
    return course.cohort(
        start_date=start.isoformat(),
        end_date=(start + timedelta(days=60)).isoformat(),
        time_zone="UTC",
        pacing=pacing,
        **fields,
    )


def test_a_learner_joins_by_code_and_sees_the_cohorts_pacing(course: Course) -> None:
    cohort = paced(course, name="Paced")
    assert cohort["join_code"] and len(cohort["join_code"]) == 10
    assert [e["offset_days"] for e in cohort["schedule"]] == [0, 7, 14]
    _, learner = course.node.register()
    code = cohort["join_code"]
    joined = course.call(
        learner, "POST", "/api/v1/cohorts/join", json={"code": f" {code.lower()[:5]}-{code[5:]} "}
    )
    assert joined["cohort_id"] == cohort["id"] and joined["via"] == "code"
    # Joining enrolled them: the course's content shows week 2 locked until its cohort date.
    content = course.call(learner, "GET", f"/api/v1/courses/{course.id}/content")
    week1, week2, week3 = content["modules"]
    assert not week1["locked"]
    assert week2["locked"] and week3["locked"]
    opens = datetime.fromisoformat(week2["unlock_at"])
    assert opens.date() == today() - timedelta(days=1) + timedelta(days=7)
    assert week2["lock_reason"] == f"Opens {opens.isoformat()}."
    item = week2["items"][0]["id"]
    problem(
        course.request(learner, "POST", f"/api/v1/items/{item}/progress", json={"event": "view"}),
        403,
    )
    # A learner of the course in no cohort keeps today's behaviour: nothing locked.
    loner_email, loner = course.node.register()
    course.call(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/enrollments",
        json={"email": loner_email, "role": "student"},
    )
    free = course.call(loner, "GET", f"/api/v1/courses/{course.id}/content")
    assert not any(m["locked"] for m in free["modules"])
    # The learner sees their cohort but not its code; joining twice is a 409.
    mine = course.call(learner, "GET", f"/api/v1/cohorts/{cohort['id']}")
    assert mine["join_code"] is None and mine["my_membership"]["via"] == "code"
    assert mine["can_manage"] is False
    again = course.request(learner, "POST", "/api/v1/cohorts/join", json={"code": code})
    assert problem(again, 409)["reason"] == "member"
    # Rotating the code retires the old one.
    rotated = course.call(course.teacher, "POST", f"/api/v1/cohorts/{cohort['id']}/join-code")
    assert rotated["join_code"] != code
    _, late = course.node.register()
    problem(course.request(late, "POST", "/api/v1/cohorts/join", json={"code": code}), 404)
    course.call(late, "POST", "/api/v1/cohorts/join", json={"code": rotated["join_code"]})


def test_a_flood_of_bad_codes_is_throttled(course: Course) -> None:
    cohort = course.cohort(name="Flooded")
    _, guesser = course.node.register()
    for n in range(10):
        bad = course.request(guesser, "POST", "/api/v1/cohorts/join", json={"code": f"NOPE{n}"})
        problem(bad, 404)
    for code in ("AAAAAAAAAA", cohort["join_code"]):  # even the right code waits now
        throttled = course.request(guesser, "POST", "/api/v1/cohorts/join", json={"code": code})
        problem(throttled, 429)
        assert int(throttled.headers["retry-after"]) > 0
    # Someone else is not slowed down by it.
    _, other = course.node.register()
    course.call(other, "POST", "/api/v1/cohorts/join", json={"code": cohort["join_code"]})
    for body in ({"code": ""}, {"code": "x" * 65}, {"code": None}, {}, {"code": ["A"]}):
        problem(course.request(other, "POST", "/api/v1/cohorts/join", json=body), 422)


def test_capacity_and_staff(course: Course) -> None:
    cohort = course.cohort(name="Tiny", capacity=1)
    _, first = course.node.register()
    _, second = course.node.register()
    course.call(first, "POST", "/api/v1/cohorts/join", json={"code": cohort["join_code"]})
    full = course.request(
        second, "POST", "/api/v1/cohorts/join", json={"code": cohort["join_code"]}
    )
    assert problem(full, 409)["reason"] == "full"
    staff = course.request(
        course.teacher, "POST", "/api/v1/cohorts/join", json={"code": cohort["join_code"]}
    )
    assert problem(staff, 409)["reason"] == "staff"
    shrink = course.request(
        course.teacher,
        "PATCH",
        f"/api/v1/cohorts/{cohort['id']}",
        json={"capacity": 1, "name": None},
    )
    assert shrink.status_code == 200 and shrink.json()["name"] == "Tiny"


def test_bad_cohort_definitions_are_422(course: Course) -> None:
    path = f"/api/v1/courses/{course.id}/cohorts"
    base = {"name": "X", "time_zone": "UTC", "start_date": "2026-01-01", "end_date": "2026-02-01"}
    for change in (
        {"time_zone": "Mars/Olympus_Mons"},
        {"time_zone": "../../etc/passwd"},
        {"end_date": "2025-12-01"},
        {"start_date": "9999-01-01", "end_date": "9999-02-01"},
        {"capacity": 0},
        {"capacity": 2**63},
        {"pacing": [{"module_id": course.modules[0]["id"], "offset_days": -1}]},
        {"pacing": [{"module_id": course.modules[0]["id"], "offset_days": 2**40}]},
        {"pacing": [{"module_id": "00000000-0000-0000-0000-000000000000", "offset_days": 1}]},
        {
            "pacing": [
                {"module_id": course.modules[0]["id"], "offset_days": 1},
                {"module_id": course.modules[0]["id"], "offset_days": 2},
            ]
        },
        {"name": "x" * 201},
    ):
        problem(course.request(course.teacher, "POST", path, json={**base, **change}), 422)
    # Someone else's course: students may not create cohorts.
    _, student = course.node.register()
    problem(course.request(student, "POST", path, json=base), 404)


def test_invitation_by_email_is_accepted_by_the_invited_account(
    course: Course, smtp: SmtpServer
) -> None:
    cohort = course.cohort(name="Invited")
    email, invitee = course.node.register()
    _, stranger = course.node.register()
    sent = course.call(
        course.teacher,
        "POST",
        f"/api/v1/cohorts/{cohort['id']}/invitations",
        json={"email": email.upper()},
    )
    assert sent["email"] == email.lower()
    mail = smtp.wait_for(email, where=lambda m: "invited" in m.subject)[0]
    assert "Invited" in mail.subject
    match = re.search(
        r"http://liveclass\.test/cohort-invitations/accept\?token=([\w-]+)", mail.text
    )
    assert match, mail.text
    token = match.group(1)
    problem(
        course.request(
            stranger, "POST", "/api/v1/cohort-invitations/accept", json={"token": token}
        ),
        404,
    )
    problem(
        course.request(
            invitee, "POST", "/api/v1/cohort-invitations/accept", json={"token": "forged"}
        ),
        404,
    )
    joined = course.call(
        invitee, "POST", "/api/v1/cohort-invitations/accept", json={"token": token}
    )
    assert joined["cohort_id"] == cohort["id"] and joined["via"] == "invitation"
    used = course.request(
        invitee, "POST", "/api/v1/cohort-invitations/accept", json={"token": token}
    )
    assert problem(used, 409)["reason"] == "used"


def test_csv_import_previews_then_applies_all_or_nothing(course: Course) -> None:
    cohort = course.cohort(name="Imported", capacity=5)
    other = course.cohort(name="Elsewhere")
    good = [course.node.register()[0] for _ in range(2)]
    placed, _ = course.node.register()
    course.call(
        course.teacher, "POST", f"/api/v1/cohorts/{other['id']}/members", json={"email": placed}
    )
    path = f"/api/v1/cohorts/{cohort['id']}/import"
    headers = {"content-type": "text/csv"}
    bad = (
        "Name,EMAIL\n"
        f"A,{good[0]}\n"
        f"B,{good[0]}\n"
        ",\n"
        "C,nobody@example.invalid\n"
        f"D,{placed}\n"
        f"T,{course.teacher_email}\n"
        f"E,{good[1]}\n"
    )
    preview = course.call(course.teacher, "POST", f"{path}/preview", content=bad, headers=headers)
    assert preview["rows"] == 7 and len(preview["adds"]) == 2
    assert [e["row"] for e in preview["errors"]] == [3, 4, 5, 6, 7]
    refused = course.request(
        course.teacher,
        "POST",
        f"{path}/apply",
        params={"version": preview["version"]},
        content=bad,
        headers=headers,
    )
    assert len(problem(refused, 422)["errors"]) == 5
    members = course.call(course.teacher, "GET", f"/api/v1/cohorts/{cohort['id']}/members")
    assert members["items"] == []  # nothing applied
    fixed = f"email\n{good[0]}\n{good[1]}\n"
    preview = course.call(course.teacher, "POST", f"{path}/preview", content=fixed, headers=headers)
    assert preview["errors"] == [] and len(preview["adds"]) == 2
    stale = course.request(
        course.teacher,
        "POST",
        f"{path}/apply",
        params={"version": "0" * 32},
        content=fixed,
        headers=headers,
    )
    problem(stale, 409)
    applied = course.call(
        course.teacher,
        "POST",
        f"{path}/apply",
        params={"version": preview["version"]},
        content=fixed,
        headers=headers,
    )
    assert applied == {"added": 2}
    again = course.call(course.teacher, "POST", f"{path}/preview", content=fixed, headers=headers)
    assert again["unchanged"] == 2 and again["adds"] == []
    for body, kind in (
        ("no,header\nx,y\n", "text/csv"),
        ("", "text/csv"),
        ("email\n" + "\n".join(f"x{n}@e.org" for n in range(5001)), "text/csv"),
    ):
        problem(
            course.request(
                course.teacher,
                "POST",
                f"{path}/preview",
                content=body,
                headers={"content-type": kind},
            ),
            422,
        )
    problem(
        course.request(
            course.teacher, "POST", f"{path}/preview", content=b"\xff\xfe", headers=headers
        ),
        422,
    )
    problem(course.request(course.teacher, "POST", f"{path}/preview", json={"a": 1}), 415)


def test_transfers_keep_history_and_stay_within_the_course(course: Course) -> None:
    autumn = course.cohort(name="Autumn")
    winter = course.cohort(name="Winter", capacity=1)
    email, learner = course.node.register()
    user_id = course.node.user_id(email)
    course.call(learner, "POST", "/api/v1/cohorts/join", json={"code": autumn["join_code"]})
    moved = course.call(
        course.teacher,
        "POST",
        f"/api/v1/cohorts/{autumn['id']}/transfers",
        json={"user_id": user_id, "to_cohort_id": winter["id"], "reason": "moved shifts"},
    )
    assert moved["from_cohort_id"] == autumn["id"] and moved["to_cohort_id"] == winter["id"]
    history = course.call(course.teacher, "GET", f"/api/v1/cohorts/{winter['id']}/transfers")
    assert [(h["user_id"], h["reason"]) for h in history["items"]] == [(user_id, "moved shifts")]
    assert history["items"][0]["by_id"]
    mine = course.call(learner, "GET", f"/api/v1/cohorts/{winter['id']}")
    assert mine["my_membership"]["via"] == "transfer"
    problem(course.request(learner, "GET", f"/api/v1/cohorts/{autumn['id']}"), 404)
    # Winter is full now: moving someone else in is refused.
    other_email, other = course.node.register()
    course.call(other, "POST", "/api/v1/cohorts/join", json={"code": autumn["join_code"]})
    full = course.request(
        course.teacher,
        "POST",
        f"/api/v1/cohorts/{autumn['id']}/transfers",
        json={"user_id": course.node.user_id(other_email), "to_cohort_id": winter["id"]},
    )
    assert problem(full, 409)["reason"] == "full"
    # Another course's cohort, even one the same instructor runs: refused.
    foreign = Course.__new__(Course)
    foreign.node, foreign.teacher = course.node, course.teacher
    foreign.id = course.call(
        course.teacher, "POST", "/api/v1/courses", json={"code": "F-" + user_id[:8], "title": "F"}
    )["id"]
    theirs = foreign.cohort(name="Foreign")
    across = course.request(
        course.teacher,
        "POST",
        f"/api/v1/cohorts/{winter['id']}/transfers",
        json={"user_id": user_id, "to_cohort_id": theirs["id"]},
    )
    problem(across, 422)
    # Someone else's cohort: a stranger instructor cannot see it.
    _, stranger = course.node.register("instructor")
    for method, path in (
        ("GET", f"/api/v1/cohorts/{winter['id']}"),
        ("GET", f"/api/v1/cohorts/{winter['id']}/dashboard"),
        ("GET", f"/api/v1/cohorts/{winter['id']}/members"),
        ("PATCH", f"/api/v1/cohorts/{winter['id']}"),
        ("POST", f"/api/v1/cohorts/{winter['id']}/join-code"),
    ):
        kw = {"json": {}} if method == "PATCH" else {}
        problem(course.request(stranger, method, path, **kw), 404)
    # A member may read but not manage.
    problem(course.request(learner, "POST", f"/api/v1/cohorts/{winter['id']}/join-code"), 403)
    problem(course.request(learner, "GET", f"/api/v1/cohorts/{winter['id']}/dashboard"), 403)
    problem(
        course.request(
            learner, "POST", f"/api/v1/cohorts/{winter['id']}/announcements", json={"title": "hi"}
        ),
        403,
    )


def test_sessions_announcements_and_the_dashboard(course: Course, smtp: SmtpServer) -> None:
    cohort = paced(course, name="Live")
    fac_email, facilitator = course.node.register()
    course.call(
        course.teacher,
        "PUT",
        f"/api/v1/cohorts/{cohort['id']}/facilitators/{course.node.user_id(fac_email)}",
    )
    behind_email, behind = course.node.register()
    keen_email, keen = course.node.register()
    for token in (behind, keen):
        course.call(token, "POST", "/api/v1/cohorts/join", json={"code": cohort["join_code"]})
    for item in course.items[:2]:  # week 1 done by the keen one
        course.call(keen, "POST", f"/api/v1/items/{item['id']}/progress", json={"event": "view"})
    start = datetime.now(UTC) - timedelta(minutes=5)
    live = course.call(
        facilitator,
        "POST",
        f"/api/v1/cohorts/{cohort['id']}/sessions",
        json={"title": "Office hour", "starts_at": start.isoformat(), "duration_minutes": 60},
    )
    listed = course.call(behind, "GET", f"/api/v1/cohorts/{cohort['id']}/sessions")
    assert [s["room_id"] for s in listed["items"]] == [live["room_id"]]
    # The room admits the cohort and its facilitators, nobody else of the course.
    room = live["room_id"]
    assert course.request(keen, "POST", f"/api/v1/rooms/{room}/join").status_code == 200
    assert course.request(facilitator, "POST", f"/api/v1/rooms/{room}/join").status_code == 200
    outsider_email, outsider = course.node.register()
    course.call(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/enrollments",
        json={"email": outsider_email, "role": "student"},
    )
    problem(course.request(outsider, "POST", f"/api/v1/rooms/{room}/join"), 404)
    # Someone taken out of the cohort loses the room too.
    gone_email, gone = course.node.register()
    course.call(gone, "POST", "/api/v1/cohorts/join", json={"code": cohort["join_code"]})
    assert course.request(gone, "POST", f"/api/v1/rooms/{room}/join").status_code == 200
    gone_id = course.node.user_id(gone_email)
    removal = f"/api/v1/cohorts/{cohort['id']}/members/{gone_id}"
    long = course.request(course.teacher, "DELETE", removal, params={"reason": "x" * 501})
    problem(long, 422)
    course.call(course.teacher, "DELETE", removal, params={"reason": " left the course "})
    problem(course.request(gone, "POST", f"/api/v1/rooms/{room}/join"), 404)
    # The removal's reason is in the audit record.
    audit = course.call(
        course.node.admin_token(),
        "GET",
        "/api/v1/audit-events",
        params={"action": "cohort.remove_member", "target_id": cohort["id"]},
    )
    [removed] = audit["items"]
    assert (removed["detail"]["user_id"], removed["detail"]["reason"]) == (
        gone_id,
        "left the course",
    )
    # An announcement reaches every member by e-mail.
    posted = course.call(
        facilitator,
        "POST",
        f"/api/v1/cohorts/{cohort['id']}/announcements",
        json={"title": "Week 1 recap", "body": "Read chapter 2."},
    )
    for address in (behind_email, keen_email):
        assert (
            "Week 1 recap"
            in smtp.wait_for(address, where=lambda m: "recap" in m.subject)[0].subject
        )
    shown = course.call(behind, "GET", f"/api/v1/cohorts/{cohort['id']}/announcements")
    assert [a["id"] for a in shown["items"]] == [posted["id"]]
    board = course.call(
        facilitator,
        "GET",
        f"/api/v1/cohorts/{cohort['id']}/dashboard",
        params={"sort": "progress", "order": "desc"},
    )
    rows = {r["email"]: r for r in board["learners"]}
    assert [r["email"] for r in board["learners"]] == [keen_email, behind_email]
    assert rows[keen_email]["percent"] == pytest.approx(33.3)
    assert rows[keen_email]["expected_percent"] == pytest.approx(33.3)
    assert rows[keen_email]["behind"] is False
    assert rows[behind_email]["behind"] is True
    assert rows[behind_email]["reasons"] == ["below_pace"]
    assert board["behind"] == 1
    assert rows[behind_email]["sessions_held"] == 1
    exported = course.request(facilitator, "GET", f"/api/v1/cohorts/{cohort['id']}/dashboard.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(exported.text)))
    assert table[0][:2] == ["Name", "Email"] and len(table) == 3
    for params in ({"sort": "nope"}, {"inactive_days": 0}, {"inactive_days": 2**63}):
        problem(
            course.request(
                facilitator, "GET", f"/api/v1/cohorts/{cohort['id']}/dashboard", params=params
            ),
            422,
        )


def test_personal_data_export_and_erase(course: Course) -> None:
    cohort = course.cohort(name="Private")
    email, learner = course.node.register()
    course.call(learner, "POST", "/api/v1/cohorts/join", json={"code": cohort["join_code"]})
    course.call(
        course.teacher, "POST", f"/api/v1/cohorts/{cohort['id']}/invitations", json={"email": email}
    )
    export = course.call(learner, "GET", "/api/v1/users/me/export")["cohorts"]
    assert [m["cohort_id"] for m in export["memberships"]] == [cohort["id"]]
    assert export["invitations"][0]["email"] == email.lower()
    with course.node.client(learner) as client:
        gone = client.request(
            "DELETE", "/api/v1/users/me", json={"password": "correct-horse-battery"}
        )
        assert gone.status_code == 204, gone.text
    members = course.call(course.teacher, "GET", f"/api/v1/cohorts/{cohort['id']}/members")
    assert members["items"] == []
