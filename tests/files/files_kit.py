"""What the files tests share: a course on a live node with its staff and learners, and tus
calls made with httpx (``create``, ``patch``, ``upload``), plus the node's own parts a test
checks behind the API (its staging directory, its database)."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from kits.nodes import Node

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = {**TUS, "Content-Type": "application/offset+octet-stream"}
QUOTA = 3_000_000
MAX_FILE = 2_000_000


@dataclass
class Course:
    """A published course: its instructor, an enrolled student and someone outside it."""

    node: Node
    id: str
    instructor: str
    student: str
    outsider: str

    def uploads(self) -> str:
        return f"/api/v1/courses/{self.id}/uploads"

    def client(self, token: str | None = None) -> httpx.Client:
        return self.node.client(token or self.instructor)

    def add_instructor(self) -> tuple[str, str]:
        """Another instructor of the course (an editor too): (email, access token)."""
        email, token = self.node.register("instructor")
        with self.client() as client:
            enrolled = client.post(
                f"/api/v1/courses/{self.id}/enrollments",
                json={"email": email, "role": "instructor"},
            )
        assert enrolled.status_code == 201, enrolled.text
        return email, token


def make_course(node: Node) -> Course:
    """A fresh published course with an instructor and an enrolled student."""
    _, instructor = node.register("instructor")
    student_email, student = node.register("student")
    _, outsider = node.register("student")
    with node.client(instructor) as client:
        code = f"F{time.monotonic_ns()}"
        made = client.post("/api/v1/courses", json={"title": "Files", "code": code})
        assert made.status_code == 201, made.text
        course_id = made.json()["id"]
        client.patch(f"/api/v1/courses/{course_id}", json={"status": "published"})
        enrolled = client.post(
            f"/api/v1/courses/{course_id}/enrollments",
            json={"email": student_email, "role": "student"},
        )
        assert enrolled.status_code == 201, enrolled.text
    return Course(node, course_id, instructor, student, outsider)


def metadata(**pairs: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


def start(
    course: Course, length: int, name: str = "a.bin", token: str | None = None
) -> httpx.Response:
    """A tus POST (creation), whatever its answer."""
    with course.client(token) as client:
        return client.post(
            course.uploads(),
            headers={
                **TUS,
                "Upload-Length": str(length),
                "Upload-Metadata": metadata(filename=name),
            },
        )


def create(course: Course, length: int, name: str = "a.bin", token: str | None = None) -> str:
    """Start an upload (201 expected); its location."""
    made = start(course, length, name, token)
    assert made.status_code == 201, made.text
    assert made.headers["Tus-Resumable"] == "1.0.0"
    assert made.headers["Upload-Expires"]
    return made.headers["Location"]


def patch(
    course: Course,
    location: str,
    offset: int,
    body: bytes,
    token: str | None = None,
    **headers: str,
) -> httpx.Response:
    with course.client(token) as client:
        return client.patch(
            location, content=body, headers={**CHUNK, "Upload-Offset": str(offset), **headers}
        )


def head(course: Course, location: str, token: str | None = None) -> httpx.Response:
    with course.client(token) as client:
        return client.head(location, headers=TUS)


def upload(
    course: Course, data: bytes, name: str = "a.bin", token: str | None = None
) -> dict[str, object]:
    """Upload ``data`` in one PATCH; the file as the API shows it."""
    location = create(course, len(data), name, token)
    done = patch(course, location, 0, data, token)
    assert done.status_code == 204, done.text
    return file_at(course, done, token)


def file_at(course: Course, done: httpx.Response, token: str | None = None) -> dict[str, object]:
    """The file a completing PATCH made (its ``Content-Location``)."""
    with course.client(token) as client:
        found = client.get(done.headers["Content-Location"])
    assert found.status_code == 200, found.text
    file: dict[str, object] = found.json()
    return file


def show(course: Course, file_id: object) -> None:
    """Put the file in a published module as a published item (students reach it)."""
    with course.client() as client:
        module = client.post(
            f"/api/v1/courses/{course.id}/modules", json={"title": "Files", "published": True}
        )
        assert module.status_code == 201, module.text
        item = client.post(
            f"/api/v1/modules/{module.json()['id']}/items",
            json={"kind": "file", "title": "A file", "file_id": file_id, "published": True},
        )
        assert item.status_code == 201, item.text


def link(
    course: Course, file_id: object, disposition: str = "attachment", token: str | None = None
) -> str:
    with course.client(token) as client:
        made = client.post(f"/api/v1/files/{file_id}/link", json={"disposition": disposition})
    assert made.status_code == 200, made.text
    return str(made.json()["url"])


def download(course: Course, file_id: object, token: str | None = None) -> bytes:
    """The file's bytes through a signed link, fetched without credentials."""
    url = link(course, file_id, token=token)
    with course.node.client() as anonymous:
        got = anonymous.get(url)
    assert got.status_code == 200, got.text
    return got.content


def in_store(node: Node) -> bool:
    """Whether the node stages uploads in its S3-compatible store (not on its disk)."""
    return node.server.env.get("LIVECLASS_BLOB_STORE") == "s3"


def staged_size(node: Node, location: str) -> int | None:
    """How many bytes of the upload at ``location`` are staged outside its parts (None:
    nothing staged): the staging file's size, or with S3 the tail object's (moto answers
    unsigned requests)."""
    if not in_store(node):
        path = staged_path(node, location)
        return path.stat().st_size if path.exists() else None
    upload_id = location.rstrip("/").rsplit("/", 1)[1].replace("-", "")
    env = node.server.env
    url = f"{env['LIVECLASS_S3_ENDPOINT']}/{env['LIVECLASS_S3_BUCKET']}/uploads/{upload_id}/tail"
    found = httpx.head(url, timeout=30)
    return int(found.headers["content-length"]) if found.status_code == 200 else None


def staged_path(node: Node, location: str) -> Path:
    """Where the node stages the upload at ``location`` (``<data_dir>/uploads/<id hex>``)."""
    upload_id = location.rstrip("/").rsplit("/", 1)[1].replace("-", "")
    return node.server.data_dir.resolve() / "uploads" / upload_id


def staging_dir(node: Node) -> Path:
    return node.server.data_dir.resolve() / "uploads"
