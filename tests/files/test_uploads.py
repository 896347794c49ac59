"""tus uploads and signed downloads on a live node (SQLite with the local store, PostgreSQL
with S3 on moto's server mode): resumes, refusals, names, quotas, ranges and links."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from blake3 import blake3
from files_kit import TUS, Course, create, link, patch, show, upload

from kits.servers import ROOT

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(200_000)


def test_options_advertise_tus(course: Course) -> None:
    with course.node.client() as client:
        answer = client.options(course.uploads())
    assert answer.status_code == 204
    assert answer.headers["Tus-Version"] == "1.0.0"
    extensions = set(answer.headers["Tus-Extension"].split(","))
    assert {
        "creation",
        "creation-with-upload",
        "termination",
        "expiration",
        "checksum",
    } <= extensions


def test_resume_after_an_interrupted_patch(course: Course) -> None:
    data = os.urandom(500_000)
    location = create(course, len(data), "notes.bin")
    assert patch(course, location, 0, data[:200_000]).headers["Upload-Offset"] == "200000"
    with course.client() as client:
        head = client.head(location, headers=TUS)
    assert head.headers["Upload-Offset"] == "200000"
    assert head.headers["Cache-Control"] == "no-store"
    wrong = patch(course, location, 100, data[100:])
    assert wrong.status_code == 409
    assert wrong.headers["content-type"] == "application/problem+json"
    done = patch(course, location, 200_000, data[200_000:])
    assert done.status_code == 204
    with course.client() as client:
        file = client.get(done.headers["Content-Location"]).json()
    assert file["blake3"] == blake3(data).hexdigest() and file["sha256"] is None
    assert file["size"] == len(data)


def test_checksum_mismatch_drops_the_chunk(course: Course) -> None:
    data = b"hello world, this is a chunk"
    location = create(course, len(data) * 2)
    wrong = base64.b64encode(hashlib.sha1(b"other").digest()).decode()  # noqa: S324 - tus names it
    refused = patch(course, location, 0, data, **{"Upload-Checksum": f"sha1 {wrong}"})
    assert refused.status_code == 460
    right = base64.b64encode(hashlib.sha256(data).digest()).decode()
    kept = patch(course, location, 0, data, **{"Upload-Checksum": f"sha256 {right}"})
    assert kept.headers["Upload-Offset"] == str(len(data))
    odd = patch(course, location, len(data), data, **{"Upload-Checksum": "crc32 AAAA"})
    assert odd.status_code == 400


def test_sizes_and_quota(course: Course) -> None:
    with course.client() as client:
        huge = client.post(course.uploads(), headers={**TUS, "Upload-Length": "2000001"})
        assert huge.status_code == 413
        assert huge.headers["content-type"] == "application/problem+json"
    location = create(course, 10)
    past = patch(course, location, 0, b"x" * 11)
    assert past.status_code == 413
    with course.client() as client:
        assert client.head(location, headers=TUS).headers["Upload-Offset"] == "0"
    create(course, 1_900_000)  # reserved against the quota while unfinished
    with course.client() as client:
        over = client.post(course.uploads(), headers={**TUS, "Upload-Length": "1500000"})
    assert over.status_code == 413
    with course.client() as client:
        old = client.post(course.uploads(), headers={"Upload-Length": "5"})
    assert old.status_code == 412


def test_termination(course: Course) -> None:
    location = create(course, 100)
    with course.client() as client:
        assert client.delete(location, headers=TUS).status_code == 204
        assert client.head(location, headers=TUS).status_code == 404


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("a\x00b.txt", "ab.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("C:\\Windows\\evil.bat", "evil.bat"),
        ("..", "file"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_path_tricks_in_names(course: Course, raw: str, expected: str) -> None:
    file = upload(course, b"plain text\n", raw)
    assert file["name"] == expected
    assert file["content_type"] == "text/plain; charset=utf-8"


def test_who_may_upload_and_read(course: Course) -> None:
    with course.client(course.student) as client:
        refused = client.post(course.uploads(), headers={**TUS, "Upload-Length": "5"})
    assert refused.status_code == 403
    file = upload(course, PNG, "photo.jpg")
    assert file["content_type"] == "image/png"  # the bytes decide, not the name
    with course.client(course.outsider) as client:
        assert client.get(f"/api/v1/files/{file['id']}").status_code == 404
        assert client.post(f"/api/v1/files/{file['id']}/link").status_code == 404
        # The course is published (visible), its file list is the staff's.
        assert client.get(f"/api/v1/courses/{course.id}/files").status_code == 403
    with course.client(course.student) as client:
        # Learners reach files through items: not listed, and hidden until an item of a
        # published module shows the file.
        assert client.get(f"/api/v1/courses/{course.id}/files").status_code == 403
        assert client.get(f"/api/v1/files/{file['id']}").status_code == 404
        assert client.post(f"/api/v1/files/{file['id']}/link").status_code == 404
    show(course, file["id"])
    with course.client(course.student) as client:
        assert client.get(f"/api/v1/files/{file['id']}").status_code == 200
        assert client.post(f"/api/v1/files/{file['id']}/link").status_code == 200
        assert client.delete(f"/api/v1/files/{file['id']}").status_code == 403


def test_video_originals_are_for_editors(course: Course) -> None:
    video = b"\x00\x00\x00\x20ftypisom" + os.urandom(1000)
    file = upload(course, video, "lecture.mp4")
    assert file["content_type"] == "video/mp4"
    show(course, file["id"])
    with course.client(course.student) as client:
        assert client.post(f"/api/v1/files/{file['id']}/link").status_code == 403
    with course.client() as client:
        assert client.post(f"/api/v1/files/{file['id']}/link").status_code == 200


def test_signed_links_serve_ranges_without_credentials(course: Course) -> None:
    file = upload(course, PNG, "photo.png")
    url = link(course, file["id"], "inline")
    with course.node.client() as anonymous:
        whole = anonymous.get(url)
        assert whole.status_code == 200
        assert whole.content == PNG
        assert whole.headers["content-type"] == "image/png"
        assert whole.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert whole.headers["content-disposition"].startswith("inline;")
        etag = whole.headers["etag"]
        assert anonymous.get(url, headers={"If-None-Match": etag}).status_code == 304
        part = anonymous.get(url, headers={"Range": "bytes=10-19"})
        assert part.status_code == 206
        assert part.content == PNG[10:20]
        assert part.headers["content-range"] == f"bytes 10-19/{len(PNG)}"
        several = anonymous.get(url, headers={"Range": "bytes=0-3,100-103"})
        assert several.status_code == 206
        assert several.headers["content-type"].startswith("multipart/byteranges")
        assert PNG[100:104] in several.content and PNG[:4] in several.content
        past = anonymous.get(url, headers={"Range": f"bytes={len(PNG) + 10}-"})
        assert past.status_code == 416
        assert past.headers["content-range"] == f"bytes */{len(PNG)}"
        stale = anonymous.get(url, headers={"Range": "bytes=0-3", "If-Range": '"stale"'})
        assert stale.status_code == 200
        assert stale.content == PNG
        fresh = anonymous.get(url, headers={"Range": "bytes=0-3", "If-Range": etag})
        assert fresh.status_code == 206


def test_a_file_past_one_read_streams(course: Course) -> None:
    """Bodies over 1 MiB stream in pieces, smaller ones are read at once: both whole."""
    data = os.urandom(1_500_000)
    file = upload(course, data, "big.bin")
    url = link(course, file["id"])
    with course.node.client() as anonymous:
        whole = anonymous.get(url)
        assert whole.status_code == 200
        assert whole.headers["content-length"] == str(len(data))
        assert whole.content == data
        long = anonymous.get(url, headers={"Range": "bytes=100-1200000"})
        assert long.status_code == 206
        assert long.content == data[100:1_200_001]
        assert long.headers["content-range"] == f"bytes 100-1200000/{len(data)}"
        tail = anonymous.get(url, headers={"Range": "bytes=-1000"})
        assert tail.status_code == 206
        assert tail.content == data[-1000:]
        head = anonymous.head(url)
        assert head.status_code == 200
        assert head.headers["content-length"] == str(len(data))
        assert head.content == b""
        head_part = anonymous.head(url, headers={"Range": "bytes=0-9"})
        assert head_part.status_code == 206
        assert head_part.headers["content-length"] == "10"


def test_html_is_never_inline(course: Course) -> None:
    file = upload(course, b"<!doctype html><script>alert(1)</script>", "page.txt")
    assert file["content_type"] == "application/octet-stream"
    url = link(course, file["id"], "inline")
    with course.node.client() as anonymous:
        served = anonymous.get(url)
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["x-content-type-options"] == "nosniff"


def test_forged_and_expired_links(course: Course) -> None:
    file = upload(course, b"secret notes\n", "notes.txt")
    url = link(course, file["id"])
    forged = url.replace("d=attachment", "d=inline")
    path, _, query = url.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&"))
    expired = url.replace(f"exp={params['exp']}", f"exp={int(params['exp']) - 10_000}")
    other = url.replace(path, path[:-4] + "0000")
    with course.node.client() as anonymous:
        for bad in (forged, expired, other, path):
            refused = anonymous.get(bad)
            assert refused.status_code == 403, bad
            assert refused.headers["content-type"] == "application/problem+json"


def test_delete_file(course: Course) -> None:
    file = upload(course, os.urandom(1000), "gone.bin")
    url = link(course, file["id"])
    with course.client() as client:
        assert client.delete(f"/api/v1/files/{file['id']}").status_code == 204
        assert client.get(f"/api/v1/files/{file['id']}").status_code == 404
    with course.node.client() as anonymous:
        assert anonymous.get(url).status_code == 404


def test_stock_tus_js_client_uploads(course: Course, tmp_path: Path) -> None:
    """tus-js-client (npm), unmodified, uploads a PDF in several PATCHes."""
    data = b"%PDF-1.7\n" + os.urandom(700_000)
    source = tmp_path / "syllabus.pdf"
    source.write_bytes(data)
    endpoint = f"{course.node.url}{course.uploads()}"
    done = subprocess.run(
        [
            "node",
            str(ROOT / "tests" / "node" / "tus_upload.cjs"),
            endpoint,
            course.instructor,
            str(source),
            "262144",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    with course.client() as client:
        listed = client.get(f"/api/v1/courses/{course.id}/files").json()["items"]
    found = [f for f in listed if f["blake3"] == blake3(data).hexdigest()]
    assert found, listed
    assert found[0]["name"] == "syllabus.pdf"
    assert found[0]["content_type"] == "application/pdf"
