"""The inbox through a real node: a recording that stops notifies the room's hosts (inbox,
unread count, e-mail with both parts, the live channel), preferences decide the e-mail
(immediately, daily digest, off), and nobody sees anyone else's notifications."""

from __future__ import annotations

import time
import uuid

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from kits.nodes import PASSWORD, Node
from kits.notify import channel, notification_rows, receive, stop_a_recording
from kits.smtp import SmtpServer


def _instructor(node: Node) -> tuple[str, str]:
    return node.register("instructor", email=f"host-{uuid.uuid4().hex[:10]}@example.org")


def _inbox(node: Node, token: str, **params: object) -> dict[str, object]:
    with node.client(token) as client:
        answer = client.get("/api/v1/notifications", params=params)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


def _wait_unread(node: Node, token: str, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with node.client(token) as client:
            unread = client.get("/api/v1/notifications/unread-count").json()["unread"]
        if unread >= count:
            assert unread == count
            return
        assert time.monotonic() < deadline, f"unread stayed {unread}"
        time.sleep(0.1)


def test_a_stopped_recording_notifies_the_host_live_in_the_inbox_and_by_email(
    mail_node: Node, smtp: SmtpServer
) -> None:
    email, token = _instructor(mail_node)
    with channel(mail_node, token) as ws:
        welcome = receive(ws, "welcome")
        assert welcome["unread"] == 0 and welcome["recovered"] is False
        room = stop_a_recording(mail_node, token, "Algebra <script>alert(1)</script>")
        live = receive(ws, "notification")
        assert live["unread"] == 1
        assert live["notification"]["category"] == "recordings"
        assert live["notification"]["link"] == f"/rooms/{room}/recordings"
        assert live["seq"] > welcome["seq"]
    inbox = _inbox(mail_node, token)
    assert inbox["unread"] == 1
    (item,) = inbox["items"]  # type: ignore[misc]
    assert item["title"] == "Recording ready: Algebra <script>alert(1)</script>"
    (message,) = smtp.wait_for(email, where=lambda m: "Recording ready" in m.subject)
    assert f"http://liveclass.test/rooms/{room}/recordings" in message.text
    assert "<script>" not in message.html
    assert "Algebra &lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert "http://liveclass.test/notifications/settings" in message.text


def test_marking_read_and_paging(mail_node: Node) -> None:
    _, token = _instructor(mail_node)
    for n in range(3):
        stop_a_recording(mail_node, token, f"Class {n}")
    _wait_unread(mail_node, token, 3)
    first = _inbox(mail_node, token, limit=2)
    assert len(first["items"]) == 2 and first["next"]  # type: ignore[arg-type]
    with mail_node.client(token) as client:
        page = client.get("/api/v1/notifications", params={"limit": 2, "cursor": first["next"]})
        assert 'rel="next"' in client.get("/api/v1/notifications?limit=2").headers["link"]
    rest = page.json()
    assert len(rest["items"]) == 1 and rest["next"] is None
    ids = [i["id"] for i in first["items"] + rest["items"]]  # type: ignore[operator]
    assert ids == sorted(ids, reverse=True)
    with mail_node.client(token) as client:
        read = client.post(f"/api/v1/notifications/{ids[0]}/read")
        assert read.status_code == 200 and read.json()["read_at"]
        assert client.get("/api/v1/notifications/unread-count").json() == {"unread": 2}
        unread = client.get("/api/v1/notifications", params={"unread": "true"}).json()
        assert [i["id"] for i in unread["items"]] == ids[1:]
        assert client.post("/api/v1/notifications/read-all").json() == {"marked": 2}
        assert client.get("/api/v1/notifications/unread-count").json() == {"unread": 0}
        bad = client.get("/api/v1/notifications", params={"cursor": "bm9wZQ"})
        assert bad.status_code == 422


def test_nobody_sees_or_marks_another_users_notifications(mail_node: Node) -> None:
    _, owner = _instructor(mail_node)
    _, other = _instructor(mail_node)
    stop_a_recording(mail_node, owner, "Private")
    _wait_unread(mail_node, owner, 1)
    mine = _inbox(mail_node, owner)["items"][0]["id"]  # type: ignore[index]
    assert _inbox(mail_node, other)["items"] == []
    with mail_node.client(other) as client:
        assert client.post(f"/api/v1/notifications/{mine}/read").status_code == 404
        assert client.post("/api/v1/notifications/read-all").json() == {"marked": 0}
    assert _inbox(mail_node, owner)["unread"] == 1


def test_preferences_validate_and_decide_the_email(mail_node: Node, smtp: SmtpServer) -> None:
    email, token = _instructor(mail_node)
    with mail_node.client(token) as client:
        got = client.get("/api/v1/notifications/preferences").json()
        assert got["categories"] == {
            "account": "immediately",
            "recordings": "immediately",
            "system": "daily_digest",
            "grades": "daily_digest",
            "workshops": "immediately",
            "cohorts": "immediately",
        }
        for body in (
            {"categories": {"grades-of-mars": "off"}},
            {"categories": {"recordings": "hourly"}},
            {"categories": {"recordings": "off", "nope": "off"}},
        ):
            refused = client.put("/api/v1/notifications/preferences", json=body)
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["errors"]
        for body in ({}, {"categories": []}, {"categories": {"x" * 65: "off"}}, {"c": 1}):
            assert client.put("/api/v1/notifications/preferences", json=body).status_code == 422
        huge = {"categories": {f"c{n}": "off" for n in range(60)}}
        assert client.put("/api/v1/notifications/preferences", json=huge).status_code == 422
        assert client.get("/api/v1/notifications/preferences").json() == got  # nothing changed
        set_digest = {"categories": {"recordings": "daily_digest"}}
        changed = client.put("/api/v1/notifications/preferences", json=set_digest)
        assert changed.json()["categories"]["recordings"] == "daily_digest"
    stop_a_recording(mail_node, token, "Digest one")
    stop_a_recording(mail_node, token, "Digest two")
    # The digest runs every 2 s here: the two may share one digest or take one each, but
    # each is in exactly one, in both parts.
    deadline = time.monotonic() + 30
    while True:
        digests = [m for m in smtp.to(email) if "digest" in m.subject]
        texts = "".join(m.text for m in digests)
        if "Digest one" in texts and "Digest two" in texts:
            break
        assert time.monotonic() < deadline, [m.subject for m in digests]
        time.sleep(0.1)
    for title in ("Recording ready: Digest one", "Recording ready: Digest two"):
        assert sum(title in m.text for m in digests) == 1
        assert sum(title in m.html for m in digests) == 1
    assert digests[0].subject.startswith("[liveclass] Your daily digest: ")
    assert not [m for m in smtp.to(email) if m.subject.startswith("[liveclass] Recording")]
    with mail_node.client(token) as client:
        client.put("/api/v1/notifications/preferences", json={"categories": {"recordings": "off"}})
    stop_a_recording(mail_node, token, "Silent")
    _wait_unread(mail_node, token, 3)  # the inbox still has it
    time.sleep(5.0)  # a digest tick or two
    assert len([m for m in smtp.to(email) if "Confirm" not in m.subject]) == len(digests)


def test_web_push_is_off_unless_configured(mail_node: Node) -> None:
    _, token = _instructor(mail_node)
    subscription = {
        "endpoint": "https://push.example.org/send/abc",
        "keys": {"p256dh": "B" * 87, "auth": "a" * 22},
    }
    with mail_node.client(token) as client:
        assert client.get("/api/v1/notifications/push/key").json() == {
            "enabled": False,
            "public_key": None,
        }
        assert (
            client.post("/api/v1/notifications/push/subscriptions", json=subscription).status_code
            == 409
        )
        bad = {**subscription, "endpoint": "http://127.0.0.1/x"}
        assert client.post("/api/v1/notifications/push/subscriptions", json=bad).status_code == 422
        gone = client.delete(f"/api/v1/notifications/push/subscriptions/{uuid.uuid4()}")
        assert gone.status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/notifications/1/read", "/api/v1/notifications/0/read"])
def test_malformed_ids_and_oversized_bodies(mail_node: Node, path: str) -> None:
    _, token = _instructor(mail_node)
    with mail_node.client(token) as client:
        assert client.post(path).status_code in (404, 422)
        assert client.post("/api/v1/notifications/abc/read").status_code == 422
        big = {"categories": {"recordings": "off" * 500_000}}
        assert client.put("/api/v1/notifications/preferences", json=big).status_code == 413


def _closed(ws: ClientConnection) -> int | None:
    """Read until the server closes the socket; its close code."""
    try:
        while True:
            ws.recv(timeout=10)
    except ConnectionClosed:
        return ws.close_code


def test_the_channel_resumes_and_refuses_bad_clients(mail_node: Node) -> None:
    _, token = _instructor(mail_node)
    with channel(mail_node, token) as ws:
        welcome = receive(ws, "welcome")
        ws.send('{"type": "ping", "ref": "r1"}')
        assert receive(ws, "pong")["ref"] == "r1"
        ws.send('{"type": "subscribe"}')
        assert receive(ws, "error")["code"] == "unknown-message"
        ws.send("not json")
        assert receive(ws, "error")["code"] == "invalid-json"
    # Missed while away: replayed on resume.
    stop_a_recording(mail_node, token, "While away")
    _wait_unread(mail_node, token, 1)
    with channel(mail_node, token, epoch=welcome["epoch"], seq=str(welcome["seq"])) as ws:
        back = receive(ws, "welcome")
        assert back["recovered"] is True and back["unread"] == 1
        missed = receive(ws, "notification")
        assert missed["notification"]["title"] == "Recording ready: While away"
    # An unknown position: the current count instead.
    with channel(mail_node, token, epoch="nope", seq="5") as ws:
        fresh = receive(ws, "welcome")
        assert fresh["recovered"] is False and fresh["unread"] == 1
    for send, code in (("x" * 5000, 1009), (b"\x00\x01", 1003)):
        with channel(mail_node, token) as ws:
            receive(ws, "welcome")
            ws.send(send)
            assert _closed(ws) == code
    # Signed out everywhere: the open channel closes with 4001.
    with channel(mail_node, token) as ws:
        receive(ws, "welcome")
        with mail_node.client(token) as client:
            out = client.post("/api/v1/auth/logout", json={"everywhere": True})
            assert out.status_code == 204
        assert _closed(ws) == 4001


@pytest.mark.parametrize("token", ["", "garbage", "eyJhbGciOiJIUzI1NiJ9.e30.x", "t" * 3000])
def test_the_channel_refuses_bad_tokens(mail_node: Node, token: str) -> None:
    from websockets.sync.client import connect

    url = f"{mail_node.server.ws_url}/ws/notifications?token={token}"
    with connect(url, open_timeout=30, proxy=None) as ws:
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
        assert ws.close_code == 4001


def test_a_room_access_token_does_not_open_the_channel(mail_node: Node) -> None:
    from websockets.sync.client import connect

    _, token = _instructor(mail_node)
    url = f"{mail_node.server.ws_url}/ws/notifications?token={token}"
    with connect(url, open_timeout=30, proxy=None) as ws:
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
        assert ws.close_code == 4001


def test_the_export_holds_the_inbox_and_erasure_removes_it(mail_node: Node) -> None:
    _, token = _instructor(mail_node)
    stop_a_recording(mail_node, token, "Exported")
    _wait_unread(mail_node, token, 1)
    with mail_node.client(token) as client:
        export = client.get("/api/v1/users/me/export").json()
        section = export["notifications"]
        assert [n["title"] for n in section["inbox"]] == ["Recording ready: Exported"]
        assert section["preferences"]["recordings"] == "immediately"
        user_id = str(client.get("/api/v1/users/me").json()["id"])
        assert notification_rows(mail_node, user_id) == 1
        erased = client.request("DELETE", "/api/v1/users/me", json={"password": PASSWORD})
        assert erased.status_code == 204
    assert notification_rows(mail_node, user_id) == 0
