"""A room recording published as a course video, on a real node: the recording's track
files (a VP8 camera, a VP8 screen share starting later, two Opus voices; written here as
the SFU writes them) become one video of the course, its picture the screen share, with
sound, transcoded into the ladder; only the course's editors publish, only course rooms,
only stopped recordings; tracks kept on another node fail with a reason."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container
import httpx
import numpy as np
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from kits.nodes import Node, start_node
from lms.video import playlist
from persistence.models import Recording, RecordingFile

NODE_ID = "video-recording-node"


@pytest.fixture(scope="module")
def node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    yield from start_node(
        tmp_path_factory.mktemp("recnode"), "sqlite", request, LIVECLASS_NODE_ID=NODE_ID
    )


def _vp8(path: Path, seconds: float, colour: int) -> None:
    with av.open(str(path), "w", format="webm") as out:
        assert isinstance(out, av.container.OutputContainer)
        stream = out.add_stream("libvpx", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for index in range(int(seconds * 30)):
            image = np.full((240, 320, 3), colour, np.uint8)
            image[:, (index * 5) % 320] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 30)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def _opus(path: Path, seconds: float, hertz: float) -> None:
    with av.open(str(path), "w", format="webm") as out:
        assert isinstance(out, av.container.OutputContainer)
        stream = out.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        samples = 0
        while samples < seconds * 48000:
            t = np.arange(samples, samples + 960) / 48000
            tone = (0.2 * np.sin(2 * np.pi * hertz * t)).astype(np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(tone, format="flt", layout="mono")
            frame.sample_rate, frame.pts = 48000, samples
            for packet in stream.encode(frame):
                out.mux(packet)
            samples += 960
        for packet in stream.encode(None):
            out.mux(packet)


def _record(node: Node, room_id: str, host_id: str, *, node_id: str = NODE_ID) -> str:
    """A stopped recording of ``room_id`` with four track files, as the SFU leaves them."""
    folder = node.server.data_dir / "recordings"
    recording_id = uuid.uuid4()
    started = datetime.now(UTC) - timedelta(minutes=5)
    tracks = [
        ("camera", "video", 0.0, 4.0, lambda p: _vp8(p, 4.0, 40)),
        ("screen", "video", 1.0, 3.0, lambda p: _vp8(p, 3.0, 200)),
        ("microphone", "audio", 0.0, 4.0, lambda p: _opus(p, 4.0, 440)),
        ("microphone", "audio", 0.5, 3.0, lambda p: _opus(p, 3.0, 660)),
    ]
    engine = create_engine(f"sqlite:///{node.server.data_dir / 'liveclass.db'}")
    with Session(engine) as session:
        session.add(
            Recording(
                id=recording_id,
                room_id=uuid.UUID(room_id),
                started_by=uuid.UUID(host_id),
                started_at=started,
                stopped_at=started + timedelta(seconds=5),
            )
        )
        session.flush()
        for index, (source, kind, offset, seconds, write) in enumerate(tracks):
            relative = f"{room_id}/{recording_id}/{index}-{source}.webm"
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            write(folder / relative)
            session.add(
                RecordingFile(
                    recording_id=recording_id,
                    track_id=f"t{index}",
                    user_id=uuid.UUID(host_id),
                    source=source,
                    kind=kind,
                    codec="vp8" if kind == "video" else "opus",
                    content_type=f"{kind}/webm",
                    path=relative,
                    node_id=node_id,
                    started_at=started + timedelta(seconds=offset),
                    stopped_at=started + timedelta(seconds=offset + seconds),
                    bytes=(folder / relative).stat().st_size,
                    duration=seconds,
                    frames=int(seconds * 30),
                )
            )
        session.commit()
    engine.dispose()
    return str(recording_id)


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
    recording = _record(node, room["id"], me)
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
    recording = _record(node, loose["id"], me)
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
    elsewhere = _record(node, room["id"], me, node_id="another-node")
    made = _call(node, teacher, "POST", f"/api/v1/rooms/{room['id']}/recordings/{elsewhere}/video")
    assert made.status_code == 201, made.text
    video = _ended(node, teacher, made.json()["id"])
    assert video["status"] == "failed" and "another-node" in video["error"]
    wrong_room = _call(
        node, teacher, "POST", f"/api/v1/rooms/{room['id']}/recordings/{recording}/video"
    )
    assert wrong_room.status_code == 404
