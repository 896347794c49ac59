"""Videos on a real node: an uploaded video file becomes a video by itself, its transcode
job (in the node's own worker) writes the ladder, and a player fetches the master
playlist, a rendition and its segments through one signed prefix with no credentials;
forged, expired and out-of-prefix paths are refused; a damaged file fails with a reason an
instructor can read; caption tracks are validated; learners reach a video through an item
of an open module and their heartbeats count against the server's duration."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from video_kit import clip

from kits.nodes import Node
from lms.video import playlist, service
from persistence.blobs import LocalBlobStore
from persistence.engine import create_engine, create_sessionmaker

VTT = (
    b"WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello, cells.\n\n"
    b"00:00:01.500 --> 00:00:02.000\nBye.\n"
)


@dataclass
class Course:
    node: Node
    id: str
    teacher: str
    student: str

    def call(self, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
        with self.node.client(token) as client:
            return client.request(method, path, **kw)

    def upload(self, data: bytes, name: str) -> dict[str, Any]:
        encoded = base64.b64encode(name.encode()).decode()
        made = self.call(
            self.teacher,
            "POST",
            f"/api/v1/courses/{self.id}/uploads",
            content=data,
            headers={
                "Tus-Resumable": "1.0.0",
                "Upload-Length": str(len(data)),
                "Upload-Metadata": f"filename {encoded}",
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert made.status_code == 201, made.text
        return dict(self.call(self.teacher, "GET", made.headers["Content-Location"]).json())

    def video_of(self, file_id: int) -> dict[str, Any]:
        """The file's video once its transcode has ended (ready or failed)."""
        deadline = time.monotonic() + 180
        while True:
            videos = self.call(self.teacher, "GET", f"/api/v1/courses/{self.id}/videos").json()
            found = [v for v in videos if v["file_id"] == file_id]
            if found and found[0]["status"] in ("ready", "failed"):
                return dict(found[0])
            assert time.monotonic() < deadline, f"the transcode did not end: {found}"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def course(sqlite_node: Node) -> Course:
    _, teacher = sqlite_node.register("instructor")
    student_email, student = sqlite_node.register()
    with sqlite_node.client(teacher) as client:
        made = client.post(
            "/api/v1/courses", json={"code": f"V-{uuid.uuid4().hex[:6]}", "title": "Film"}
        )
        course_id = made.json()["id"]
        client.post(
            f"/api/v1/courses/{course_id}/enrollments",
            json={"email": student_email, "role": "student"},
        )
    return Course(sqlite_node, course_id, teacher, student)


@pytest.fixture(scope="module")
def ready(course: Course, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A 2 s 640x360 clip uploaded and transcoded."""
    source = clip(tmp_path_factory.mktemp("clip") / "lecture.mp4", seconds=2.0)
    file = course.upload(source.read_bytes(), "lecture.mp4")
    assert file["content_type"] == "video/mp4"
    video = course.video_of(file["id"])
    assert video["status"] == "ready", video
    return video


def test_an_uploaded_video_plays_through_one_signed_prefix(
    course: Course, ready: dict[str, Any]
) -> None:
    assert ready["duration"] == pytest.approx(2.0, abs=0.2)
    assert [r["height"] for r in ready["renditions"]] == [240, 360]
    shown = course.call(course.teacher, "GET", f"/api/v1/videos/{ready['id']}").json()
    master_path = shown["playback"]["master"]
    with httpx.Client(base_url=course.node.url, timeout=30) as anonymous:
        master = anonymous.get(master_path)
        assert master.status_code == 200, master.text
        assert master.headers["content-type"].startswith("application/vnd.apple.mpegurl")
        assert "immutable" in master.headers["cache-control"]
        variants = playlist.parse_master(master.text)
        assert sorted((v.width, v.height) for v in variants) == [(426, 240), (640, 360)]
        base = master_path.rsplit("/", 1)[0]
        media = playlist.parse_media(anonymous.get(f"{base}/{variants[0].uri}").text)
        folder = variants[0].uri.rsplit("/", 1)[0]
        init = anonymous.get(f"{base}/{folder}/{media.init}") if media.init else None
        segment = anonymous.get(f"{base}/{folder}/{media.segments[0].uri}")
        assert segment.status_code == 200 and len(segment.content) > 1000
        assert init is None or init.status_code == 200
        ranged = anonymous.get(
            f"{base}/{folder}/{media.segments[0].uri}", headers={"Range": "bytes=0-99"}
        )
        assert ranged.status_code == 206 and len(ranged.content) == 100
        assert anonymous.get(shown["playback"]["poster"]).headers["content-type"] == "image/jpeg"
        # Forged, truncated, or used outside its prefix: 403.
        token = master_path.split("/")[2]
        encoded, expires, signature = token.split(".")
        other = base64.urlsafe_b64encode(f"videos/{uuid.uuid4()}/".encode()).decode().rstrip("=")
        for bad in (
            master_path.replace(signature, "A" * len(signature)),
            master_path.replace(f".{expires}.", f".{int(expires) + 1}."),
            master_path.replace(encoded, other),
            f"/media/{token}/videos/{uuid.uuid4()}/master.m3u8",
            f"/media/{token}/videos/{ready['id']}/../{uuid.uuid4()}/master.m3u8",
            f"/media/{encoded}/videos/{ready['id']}/master.m3u8",
        ):
            refused = anonymous.get(bad)
            assert refused.status_code in (403, 404), (bad, refused.status_code)
            assert refused.status_code == 403 or "master.m3u8" not in bad.rsplit("/", 1)[0]


def test_learners_reach_a_video_through_an_open_item_and_watch_it(
    course: Course, ready: dict[str, Any]
) -> None:
    video_path = f"/api/v1/videos/{ready['id']}"
    assert course.call(course.student, "GET", video_path).status_code == 404
    module = course.call(
        course.teacher,
        "POST",
        f"/api/v1/courses/{course.id}/modules",
        json={"title": "Week 1", "published": True},
    ).json()
    item = course.call(
        course.teacher,
        "POST",
        f"/api/v1/modules/{module['id']}/items",
        json={
            "kind": "video",
            "title": "Lecture",
            "target_id": ready["id"],
            "published": True,
            "min_watch": 0.9,
        },
    ).json()
    assert item["requirement"] == "watch"
    seen = course.call(course.student, "GET", video_path).json()
    assert seen["playback"]["master"].startswith("/media/")
    progress = f"/api/v1/items/{item['id']}/progress"
    # Claiming a whole hour in one heartbeat gains only the video's own length.
    first = course.call(
        course.student,
        "POST",
        progress,
        json={"event": "heartbeat", "played": [[0, 3600]], "position": 1.0},
    )
    assert first.status_code == 200, first.text
    assert first.json()["watched_share"] == pytest.approx(1.0) and first.json()["completed"] is True
    other = course.call(
        course.teacher,
        "POST",
        "/api/v1/courses",
        json={"code": f"O-{uuid.uuid4().hex[:6]}", "title": "Other"},
    ).json()
    mod = course.call(
        course.teacher, "POST", f"/api/v1/courses/{other['id']}/modules", json={"title": "M"}
    ).json()
    foreign = course.call(
        course.teacher,
        "POST",
        f"/api/v1/modules/{mod['id']}/items",
        json={"kind": "video", "title": "X", "target_id": ready["id"]},
    )
    assert foreign.status_code == 422


def test_a_damaged_video_fails_with_a_reason(course: Course) -> None:
    damaged = b"\x00\x00\x00\x20ftypisom" + b"\x00" * 24 + b"not really a movie" * 500
    file = course.upload(damaged, "broken.mp4")
    assert file["content_type"] == "video/mp4"
    video = course.video_of(file["id"])
    assert video["status"] == "failed"
    assert video["error"] and "Traceback" not in video["error"]
    again = course.call(course.teacher, "POST", f"/api/v1/videos/{video['id']}/retry")
    assert again.status_code == 200 and again.json()["status"] == "queued"
    assert course.video_of(file["id"])["status"] == "failed"
    assert (
        course.call(course.teacher, "POST", f"/api/v1/videos/{video['id']}/retry").status_code
        == 200
    )
    not_video = course.upload(b"plain text\n", "notes.txt")
    made = course.call(course.teacher, "POST", f"/api/v1/files/{not_video['id']}/video")
    assert made.status_code == 422


def test_caption_tracks_are_validated_and_served(course: Course, ready: dict[str, Any]) -> None:
    path = f"/api/v1/videos/{ready['id']}/captions"
    put = course.call(
        course.teacher, "PUT", f"{path}/pt-br", params={"label": "Português"}, content=VTT
    )
    assert put.status_code == 200, put.text
    assert put.json() == {"language": "pt-BR", "label": "Português", "cues": 2}
    for language, body in (
        ("en", b"not a caption file"),
        ("en", b"WEBVTT\n\n00:00:02.000 --> 00:00:01.000\nbackwards\n"),
        ("xx-!!", VTT),
    ):
        refused = course.call(
            course.teacher, "PUT", f"{path}/{language}", params={"label": "X"}, content=body
        )
        assert refused.status_code == 422, (language, refused.text)
    too_big = course.call(
        course.teacher, "PUT", f"{path}/en", params={"label": "E"}, content=b"x" * (1 << 20 + 1)
    )
    assert too_big.status_code in (413, 422)
    assert (
        course.call(
            course.student, "PUT", f"{path}/en", params={"label": "E"}, content=VTT
        ).status_code
        == 403
    )
    shown = course.call(course.teacher, "GET", f"/api/v1/videos/{ready['id']}").json()
    with httpx.Client(base_url=course.node.url) as anonymous:
        vtt = anonymous.get(shown["playback"]["captions"]["pt-BR"])
    assert vtt.status_code == 200 and b"Hello, cells." in vtt.content
    assert "immutable" not in vtt.headers["cache-control"]
    assert course.call(course.teacher, "DELETE", f"{path}/pt-BR").status_code == 204
    assert course.call(course.teacher, "DELETE", f"{path}/pt-BR").status_code == 404


def test_deleting_a_video_removes_its_ladder(course: Course, tmp_path: Path) -> None:
    source = clip(tmp_path / "short.mp4", seconds=1.0, width=320, height=180)
    file = course.upload(source.read_bytes(), "short.mp4")
    video = course.video_of(file["id"])
    master = course.call(course.teacher, "GET", f"/api/v1/videos/{video['id']}").json()["playback"][
        "master"
    ]
    assert course.call(course.student, "DELETE", f"/api/v1/videos/{video['id']}").status_code == 403
    assert course.call(course.teacher, "DELETE", f"/api/v1/videos/{video['id']}").status_code == 204
    with httpx.Client(base_url=course.node.url) as anonymous:
        assert anonymous.get(master).status_code == 404
    assert course.call(course.teacher, "GET", f"/api/v1/files/{file['id']}").status_code == 200


async def test_a_deleted_originals_ladder_is_swept(course: Course, tmp_path: Path) -> None:
    source = clip(tmp_path / "gone.mp4", seconds=1.0, width=320, height=180)
    file = course.upload(source.read_bytes(), "gone.mp4")
    video = course.video_of(file["id"])
    master = course.call(course.teacher, "GET", f"/api/v1/videos/{video['id']}").json()
    master_path = master["playback"]["master"]
    # Deleting the original deletes the video row; its ladder is left to the sweep.
    assert course.call(course.teacher, "DELETE", f"/api/v1/files/{file['id']}").status_code == 204
    assert course.call(course.teacher, "GET", f"/api/v1/videos/{video['id']}").status_code == 404
    blobs = LocalBlobStore(course.node.server.data_dir / "blobs")
    prefix = service.prefix(uuid.UUID(video["id"]))
    assert [key async for key in blobs.list(prefix)]
    engine = create_engine(f"sqlite+aiosqlite:///{course.node.server.data_dir / 'liveclass.db'}")
    try:
        removed = await service.sweep(create_sessionmaker(engine), blobs)
    finally:
        await engine.dispose()
    assert removed >= 3
    assert [key async for key in blobs.list(prefix)] == []
    async with httpx.AsyncClient(base_url=course.node.url) as anonymous:
        assert (await anonymous.get(master_path)).status_code == 404
    # The other videos' ladders are untouched.
    others = course.call(course.teacher, "GET", f"/api/v1/courses/{course.id}/videos").json()
    for other in (v for v in others if v["status"] == "ready"):
        assert [key async for key in blobs.list(service.prefix(uuid.UUID(other["id"])))]
