"""What happens to uploads around the requests (on SQLite with the local store, PostgreSQL
with S3): the expiry job removes an upload left unfinished, privacy export and erasure
cover a person's uploads, and a PATCH whose connection drops halfway resumes cleanly."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from blake3 import blake3
from files_kit import (
    CHUNK,
    MAX_FILE,
    Course,
    create,
    download,
    file_at,
    head,
    in_store,
    patch,
    staged_size,
    staging_dir,
    start,
    upload,
)

from jobs.queue import enqueue
from jobs.types import JobContext, JobType
from kits.nodes import PASSWORD, Node, node_sessions
from kits.waiting import eventually
from lms.files.jobs import EXPIRE_UPLOADS
from lms.files.s3_staging import StoreStaging
from lms.files.service import expire_uploads
from lms.files.staging import Staging
from lms.files.storage import open_blob_store, store_staging
from settings import Settings

PROBLEM = "application/problem+json"


def node_store_staging(node: Node) -> StoreStaging | None:
    """The store staging the node uses (with S3), for running its expiry job here."""
    if not in_store(node):
        return None
    env = {k.removeprefix("LIVECLASS_").lower(): v for k, v in node.server.env.items()}
    settings = Settings(**{k: v for k, v in env.items() if k.startswith(("s3_", "blob_"))})
    return store_staging(settings, open_blob_store(settings))


def offset(course: Course, location: str, token: str | None = None) -> int | None:
    """The upload's ``Upload-Offset`` (None once HEAD stops answering 200)."""
    answer = head(course, location, token)
    return int(answer.headers["Upload-Offset"]) if answer.status_code == 200 else None


# ------------------------------------------------------------------ expiry


async def test_an_upload_left_unfinished_past_its_expiry_is_removed(course: Course) -> None:
    data = os.urandom(MAX_FILE)
    made = start(course, len(data), "draft.bin")
    assert made.status_code == 201, made.text
    location = made.headers["Location"]
    expires = parsedate_to_datetime(made.headers["Upload-Expires"])  # whole seconds
    assert patch(course, location, 0, data[:700_000]).headers["Upload-Offset"] == "700000"
    assert staged_size(course.node, location) == 700_000
    # While unfinished the upload holds its whole length of the 3 MB quota.
    assert start(course, 1_500_000).status_code == 413

    staging = Staging(staging_dir(course.node))
    in_store = node_store_staging(course.node)
    async with node_sessions(course.node) as sessions:
        # The job as the node runs it every ten minutes, its clock moved forward.
        soon = expires - timedelta(seconds=5)
        await expire_uploads(sessions, staging, now=soon, in_store=in_store)
        assert offset(course, location) == 700_000  # not expired yet: kept
        assert staged_size(course.node, location) == 700_000
        later = expires + timedelta(seconds=2)
        removed = await expire_uploads(sessions, staging, now=later, in_store=in_store)
    assert removed >= 1

    gone = head(course, location)
    assert gone.status_code == 404
    refused = patch(course, location, 700_000, data[700_000:])
    assert refused.status_code == 404
    assert refused.headers["content-type"] == PROBLEM
    assert staged_size(course.node, location) is None
    assert start(course, 1_500_000).status_code == 201  # the reservation is released


# ------------------------------------------------------------------ privacy


async def _never(ctx: JobContext) -> None:  # pragma: no cover - the node runs the job
    raise AssertionError("the node runs this job, not the test")


async def run_expiry_job_on_the_node(course: Course) -> None:
    """Enqueue ``files.expire_uploads`` in the node's database, as its schedule does."""
    async with node_sessions(course.node) as sessions, sessions() as session:
        await enqueue(session, JobType(EXPIRE_UPLOADS, _never), {"period": "test"})
        await session.commit()


async def test_export_lists_my_files_and_erasure_keeps_them_without_me(course: Course) -> None:
    """lms/files/personal_data.py: the export lists the files a person uploaded; erasure
    keeps the files (course material) and forgets the uploader, and drops the person's
    unfinished uploads, whose staged bytes go with the expiry job."""
    _, co_instructor = course.add_instructor()
    mine = b"%PDF-1.7\n" + os.urandom(5_000)
    file = upload(course, mine, "syllabus.pdf")
    theirs = upload(course, os.urandom(3_000), "theirs.bin", token=co_instructor)
    pending = create(course, MAX_FILE, "draft.bin")
    assert patch(course, pending, 0, os.urandom(1_000)).status_code == 204
    assert staged_size(course.node, pending) == 1_000
    assert start(course, 1_500_000, token=co_instructor).status_code == 413  # quota held

    with course.client() as client:
        exported = client.get("/api/v1/users/me/export")
    assert exported.status_code == 200, exported.text
    listed = exported.json()["files"]
    assert len(listed) == 1  # the finished file only, not the other's nor the draft
    entry = listed[0]
    assert set(entry) == {
        "file_id",
        "course_id",
        "name",
        "size",
        "sha256",
        "blake3",
        "content_type",
        "created_at",
    }
    assert entry["file_id"] == file["id"]
    assert entry["course_id"] == course.id
    assert entry["name"] == "syllabus.pdf"
    assert entry["size"] == len(mine)
    assert entry["blake3"] == blake3(mine).hexdigest()
    assert entry["content_type"] == "application/pdf"
    with course.client(co_instructor) as client:
        their_export = client.get("/api/v1/users/me/export").json()["files"]
    assert [f["file_id"] for f in their_export] == [theirs["id"]]

    with course.client() as client:
        erased = client.request("DELETE", "/api/v1/users/me", json={"password": PASSWORD})
        assert erased.status_code == 204, erased.text
        assert client.get("/api/v1/users/me").status_code == 401

    with course.client(co_instructor) as client:
        kept = client.get(f"/api/v1/files/{file['id']}")
        assert kept.status_code == 200
        assert kept.json()["uploader_id"] is None  # the file stays, its uploader forgotten
        assert kept.json()["blake3"] == file["blake3"]
        assert (
            client.get(f"/api/v1/files/{theirs['id']}").json()["uploader_id"]
            == (theirs["uploader_id"])
        )
    assert download(course, file["id"], token=co_instructor) == mine
    assert head(course, pending, co_instructor).status_code == 404  # the draft is dropped
    later = start(course, 1_500_000, token=co_instructor)  # and its reservation with it
    assert later.status_code == 201, later.text
    going_on = later.headers["Location"]
    assert patch(course, going_on, 0, b"x" * 500, co_instructor).status_code == 204

    await run_expiry_job_on_the_node(course)
    await eventually(
        lambda: staged_size(course.node, pending) is None, "the expiry job to drop the draft"
    )
    assert staged_size(course.node, going_on) == 500  # an upload in progress is not touched
    assert offset(course, going_on, co_instructor) == 500


# ------------------------------------------------------------------ a dropped connection


def send_half(course: Course, location: str, at: int, body: bytes, **headers: str) -> socket.socket:
    """Start a PATCH declaring all of ``body`` but send only its first half (the socket
    stays open until the caller closes it)."""
    host, port = course.node.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    fields = {
        **CHUNK,
        "Host": f"{host}:{port}",
        "Authorization": f"Bearer {course.instructor}",
        "Upload-Offset": str(at),
        "Content-Length": str(len(body)),
        **headers,
    }
    request = f"PATCH {location} HTTP/1.1\r\n"
    request += "".join(f"{name}: {value}\r\n" for name, value in fields.items()) + "\r\n"
    sock.sendall(request.encode() + body[: len(body) // 2])
    return sock


@pytest.mark.parametrize("checksum", [False, True], ids=["plain", "with-checksum"])
async def test_a_patch_cut_off_halfway_resumes(course: Course, checksum: bool) -> None:
    """The bytes of a PATCH that arrived before its connection dropped are kept (tus resumes
    from there), except with ``Upload-Checksum``, which needs the whole chunk (the offset
    stays where it was). Another person's upload in the course carries on meanwhile."""
    data = os.urandom(600_000)
    location = create(course, len(data), "notes.bin")
    assert patch(course, location, 0, data[:100_000]).headers["Upload-Offset"] == "100000"
    _, other = course.add_instructor()
    theirs = os.urandom(300_000)
    their_location = create(course, len(theirs), "theirs.bin", token=other)

    chunk = data[100_000:]
    extra = {}
    if checksum:
        digest = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
        extra["Upload-Checksum"] = f"sha256 {digest}"
    sock = send_half(course, location, 100_000, chunk, **extra)
    try:
        if not in_store(course.node):  # staged in the store, the offset moves per part
            # HEAD reports the staged size, so it shows when the half has been written.
            await eventually(lambda: offset(course, location) == 350_000, "the half to be staged")
        # Meanwhile someone else's upload in the same course goes on.
        meanwhile = patch(course, their_location, 0, theirs[:150_000], token=other)
        assert meanwhile.status_code == 204, meanwhile.text
        assert meanwhile.headers["Upload-Offset"] == "150000"
    finally:
        sock.close()

    kept = 100_000 if checksum else 350_000
    await eventually(lambda: offset(course, location) == kept, f"the offset to settle at {kept}")
    stale = patch(course, location, kept + 1, data[kept + 1 :])
    assert stale.status_code == 409
    assert stale.json()["upload_offset"] == kept
    done = patch(course, location, kept, data[kept:])
    assert done.status_code == 204, done.text
    assert done.headers["Upload-Offset"] == str(len(data))
    file = file_at(course, done)
    assert file["blake3"] == blake3(data).hexdigest()
    assert file["size"] == len(data)
    assert download(course, file["id"]) == data

    assert offset(course, their_location, other) == 150_000
    finished = patch(course, their_location, 150_000, theirs[150_000:], token=other)
    assert finished.status_code == 204, finished.text
    their_file = file_at(course, finished, other)
    assert their_file["blake3"] == blake3(theirs).hexdigest()
    assert download(course, their_file["id"], token=other) == theirs
