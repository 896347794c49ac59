"""A room recording published as a course video, on a real node: the recording's track
files (a VP8 camera, a VP8 screen share starting later, two Opus voices; written here as
the SFU writes them) become one video of the course, its picture the screen share, with
sound, transcoded into the ladder; only the course's editors publish, only course rooms,
only stopped recordings; tracks kept on another node fail with a reason."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kits.nodes import Node, start_node
from kits.recordings import seed_recording
from lms.video import playlist

pytestmark = pytest.mark.slow  # among the costliest modules: the workers start with them

NODE_ID = "video-recording-node"


@pytest.fixture(scope="module")
def node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    yield from start_node(
        tmp_path_factory.mktemp("recnode"), "sqlite", request, LIVECLASS_NODE_ID=NODE_ID
    )


def _call(node: Node, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    with node.client(token) as client:
        return client.request(method, path, **kw)


def _ended(node: Node, token: str, video_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while True:
        video = _call(node, token, "GET", f"/api/v1/videos/{video_id}").json()
        if video["status"] in ("ready", "failed"):
            return dict(video)
        assert time.monotonic() < deadline, video
        time.sleep(0.2)


def test_a_recording_becomes_a_course_video(node: Node) -> None:
    _, teacher = node.register("instructor")
    student_email, student = node.register()
    me = _call(node, teacher, "GET", "/api/v1/users/me").json()["id"]
    course = _call(
        node,
        teacher,
        "POST",
        "/api/v1/courses",
        json={"code": f"R-{uuid.uuid4().hex[:6]}", "title": "Recorded"},
    ).json()
    _call(
        node,
        teacher,
        "POST",
        f"/api/v1/courses/{course['id']}/enrollments",
        json={"email": student_email, "role": "student"},
    )
    room = _call(
        node, teacher, "POST", "/api/v1/rooms", json={"title": "Lab", "course_id": course["id"]}
    ).json()
    recording = seed_recording(node, room["id"], me, node_id=NODE_ID)
    path = f"/api/v1/rooms/{room['id']}/recordings/{recording}/video"
    assert _call(node, student, "POST", path).status_code == 403
    made = _call(node, teacher, "POST", path)
    assert made.status_code == 201, made.text
    assert made.json()["recording_id"] == recording and made.json()["file_id"] is None
    assert _call(node, teacher, "POST", path).status_code == 200  # the same video
    video = _ended(node, teacher, made.json()["id"])
    assert video["status"] == "ready", video
    assert video["duration"] == pytest.approx(3.0, abs=0.3)  # the screen share's length
    with httpx.Client(base_url=node.url) as anonymous:
        master = anonymous.get(video["playback"]["master"])
    variants = playlist.parse_master(master.text)
    assert variants and all("mp4a" in v.codecs for v in variants)  # the voices came along
    assert (variants[0].width, variants[0].height) == (320, 240)


def test_only_course_rooms_and_this_nodes_tracks(node: Node) -> None:
    _, teacher = node.register("instructor")
    me = _call(node, teacher, "GET", "/api/v1/users/me").json()["id"]
    loose = _call(node, teacher, "POST", "/api/v1/rooms", json={"title": "No course"}).json()
    recording = seed_recording(node, loose["id"], me, node_id=NODE_ID)
    refused = _call(
        node, teacher, "POST", f"/api/v1/rooms/{loose['id']}/recordings/{recording}/video"
    )
    assert refused.status_code == 409
    course = _call(
        node,
        teacher,
        "POST",
        "/api/v1/courses",
        json={"code": f"R-{uuid.uuid4().hex[:6]}", "title": "Far"},
    ).json()
    room = _call(
        node, teacher, "POST", "/api/v1/rooms", json={"title": "Far", "course_id": course["id"]}
    ).json()
    elsewhere = seed_recording(node, room["id"], me, node_id="another-node")
    made = _call(node, teacher, "POST", f"/api/v1/rooms/{room['id']}/recordings/{elsewhere}/video")
    assert made.status_code == 201, made.text
    video = _ended(node, teacher, made.json()["id"])
    assert video["status"] == "failed" and "another-node" in video["error"]
    wrong_room = _call(
        node, teacher, "POST", f"/api/v1/rooms/{room['id']}/recordings/{recording}/video"
    )
    assert wrong_room.status_code == 404
