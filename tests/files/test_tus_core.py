"""The Sans-I/O parts of files: the tus header rules, sniffing, names, ranges, signing."""

from __future__ import annotations

import base64
import hashlib

import pytest

from lms.files import ranges, signing, tus
from lms.files.errors import (
    BadTusRequest,
    ChecksumMismatch,
    LinkRefused,
    OffsetMismatch,
    UnsupportedVersion,
    UploadTooLarge,
    WrongContentType,
)
from lms.files.names import safe_name
from lms.files.sniff import may_show_inline, sniff

V = {"tus-resumable": "1.0.0"}
PATCH = {**V, "content-type": "application/offset+octet-stream"}


def test_metadata_pairs() -> None:
    encoded = base64.b64encode("résumé.pdf".encode()).decode()
    assert tus.parse_metadata(f"filename {encoded},is_confidential") == {
        "filename": "résumé.pdf",
        "is_confidential": None,
    }
    assert tus.parse_metadata(None) == {}
    for bad in ("filename ***", "a YQ==,a YQ==", "a b c", "k\xe9y YQ=="):
        with pytest.raises(BadTusRequest):
            tus.parse_metadata(bad)


def test_creation() -> None:
    assert tus.parse_creation({**V, "upload-length": "10"}, max_size=10).length == 10
    with pytest.raises(UploadTooLarge):
        tus.parse_creation({**V, "upload-length": "11"}, max_size=10)
    for headers in ({**V}, {**V, "upload-length": "-1"}, {**V, "upload-defer-length": "1"}):
        with pytest.raises(BadTusRequest):
            tus.parse_creation(headers, max_size=10)
    with pytest.raises(UnsupportedVersion):
        tus.parse_creation({"upload-length": "1", "tus-resumable": "0.2.2"}, max_size=10)


def test_append_rules() -> None:
    assert tus.parse_append({**PATCH, "upload-offset": "5"}, offset=5, length=9).offset == 5
    with pytest.raises(OffsetMismatch):
        tus.parse_append({**PATCH, "upload-offset": "4"}, offset=5, length=9)
    with pytest.raises(WrongContentType):
        tus.parse_append({**V, "upload-offset": "5"}, offset=5, length=9)
    with pytest.raises(UploadTooLarge):
        tus.parse_append({**PATCH, "upload-offset": "5", "content-length": "5"}, offset=5, length=9)
    # creation-with-upload: a POST's first chunk may leave Upload-Offset out (tus-js-client
    # with uploadDataDuringCreation does); a PATCH may not.
    assert tus.parse_append(PATCH, offset=0, length=9, creation=True).offset == 0
    with pytest.raises(BadTusRequest):
        tus.parse_append(PATCH, offset=0, length=9)


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "md5"])
def test_checksums(algorithm: str) -> None:
    digest = hashlib.new(algorithm, b"chunk", usedforsecurity=False).digest()
    checksum = tus.parse_checksum(f"{algorithm} {base64.b64encode(digest).decode()}")
    assert checksum is not None
    checksum.verify(digest)
    with pytest.raises(ChecksumMismatch):
        checksum.verify(b"\x00" * len(digest))
    with pytest.raises(BadTusRequest):
        tus.parse_checksum(f"{algorithm} AAAA")


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"GIF89a", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  ", "video/quicktime"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska", "video/x-matroska"),
        (b"ID3\x04", "audio/mpeg"),
        (b"OggS\x00", "audio/ogg"),
        (
            b"PK\x03\x04....word/document.xml",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (b"PK\x03\x04....other", "application/zip"),
        ("héllo\n".encode(), "text/plain; charset=utf-8"),
        (b"MZ\x90\x00\x03", "application/octet-stream"),
        (b"\x7fELF\x02\x01", "application/octet-stream"),
        (b"<html><script>", "application/octet-stream"),
        (b"<svg onload=alert(1)>", "application/octet-stream"),
        (b"", "application/octet-stream"),
    ],
)
def test_sniffing(head: bytes, kind: str) -> None:
    assert sniff(head) == kind


def test_inline_only_for_safe_types() -> None:
    assert may_show_inline("image/png") and may_show_inline("video/mp4")
    assert not may_show_inline("application/octet-stream")
    assert not may_show_inline("text/html")


def test_names() -> None:
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("\u202etxt.exe") == "txt.exe"
    assert safe_name(".bashrc") == "bashrc"
    assert safe_name(None) == "file"
    assert len(safe_name("é" * 500)) == 200


def test_ranges() -> None:
    assert ranges.parse_range(None, 100) is None
    assert ranges.parse_range("bytes=0-9", 100) == [(0, 10)]
    assert ranges.parse_range("bytes=-10", 100) == [(90, 100)]
    assert ranges.parse_range("bytes=90-", 100) == [(90, 100)]
    assert ranges.parse_range("bytes=0-200", 100) == [(0, 100)]
    assert ranges.parse_range("bytes=0-4,3-9,50-59", 100) == [(0, 10), (50, 60)]
    assert ranges.parse_range("bytes=5-1", 100) is None
    assert ranges.parse_range("items=0-1", 100) is None
    with pytest.raises(ranges.Unsatisfiable):
        ranges.parse_range("bytes=100-", 100)
    many = ",".join(f"{i * 2}-{i * 2}" for i in range(40))
    assert ranges.parse_range(f"bytes={many}", 100) is None
    assert ranges.if_range_holds('"a"', '"a"', "date")
    assert not ranges.if_range_holds('"b"', '"a"', "date")
    assert not ranges.if_range_holds('W/"a"', '"a"', "date")
    assert ranges.etag_matches('"x", W/"a"', '"a"')


def test_signing() -> None:
    link = signing.Link("files/k", 2_000, "inline", "a b.png", "image/png")
    url = signing.sign("s" * 40, link)
    path, _, query = url.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&"))
    from urllib.parse import unquote_plus

    decoded = {k: unquote_plus(v) for k, v in params.items()}
    assert signing.verify("s" * 40, "files/k", decoded, now=1_000) == link
    with pytest.raises(LinkRefused):
        signing.verify("s" * 40, "files/k", decoded, now=3_000)
    with pytest.raises(LinkRefused):
        signing.verify("t" * 40, "files/k", decoded, now=1_000)
    with pytest.raises(LinkRefused):
        signing.verify("s" * 40, "files/other", decoded, now=1_000)
    assert path == "/blobs/files/k"
