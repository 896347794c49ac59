"""The tus 1.0.0 resumable upload protocol, Sans-I/O: parse and check headers, build the
headers of each answer. Extensions: creation, creation-with-upload, termination,
expiration and checksum (sha1, sha256, md5). No I/O here; the routes feed it headers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from lms.files.errors import (
    BadTusRequest,
    ChecksumMismatch,
    OffsetMismatch,
    UnsupportedVersion,
    UploadTooLarge,
    WrongContentType,
)

VERSION = "1.0.0"
EXTENSIONS = ("creation", "creation-with-upload", "termination", "expiration", "checksum")
CHECKSUM_ALGORITHMS = ("sha1", "sha256", "md5")
OFFSET_OCTET_STREAM = "application/offset+octet-stream"
_DIGITS = re.compile(r"\d{1,19}")
_KEY = re.compile(r"[!-+\--~]+")  # printable ASCII without space or comma


@dataclass(frozen=True)
class Creation:
    """A POST's declared upload: its length and decoded metadata (None: a key alone)."""

    length: int
    metadata: dict[str, str | None]


@dataclass(frozen=True)
class Checksum:
    """An ``Upload-Checksum``: the algorithm and the digest the chunk must have."""

    algorithm: str
    digest: bytes

    def hasher(self) -> hashlib._Hash:
        """A fresh hash object of the algorithm."""
        return hashlib.new(self.algorithm, usedforsecurity=False)

    def verify(self, computed: bytes) -> None:
        """Raise ``ChecksumMismatch`` unless ``computed`` is the declared digest."""
        if computed != self.digest:
            raise ChecksumMismatch("The chunk does not match its Upload-Checksum.")


@dataclass(frozen=True)
class Append:
    """A PATCH: where it writes, and the checksum its bytes must match (if given)."""

    offset: int
    checksum: Checksum | None


def check_version(headers: Mapping[str, str]) -> None:
    """Every request but OPTIONS must say ``Tus-Resumable: 1.0.0`` (412 otherwise)."""
    if headers.get("tus-resumable") != VERSION:
        raise UnsupportedVersion(f"This server speaks tus {VERSION}.", tus_version=VERSION)


def parse_metadata(value: str | None) -> dict[str, str | None]:
    """``Upload-Metadata``: comma-separated ``key base64(value)`` pairs, keys unique."""
    found: dict[str, str | None] = {}
    if not value or not value.strip():
        return found
    for pair in value.split(","):
        parts = pair.strip().split(" ")
        key = parts[0]
        if not _KEY.fullmatch(key) or len(parts) > 2 or key in found:
            raise BadTusRequest("Upload-Metadata is not key and base64 value pairs.")
        if len(parts) == 1:
            found[key] = None
            continue
        try:
            found[key] = base64.b64decode(parts[1], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise BadTusRequest(f"Upload-Metadata {key!r} is not base64 of UTF-8.") from None
    return found


def _integer(headers: Mapping[str, str], name: str) -> int:
    value = headers.get(name.lower())
    if value is None or not _DIGITS.fullmatch(value.strip()):
        raise BadTusRequest(f"{name} must be a non-negative integer.")
    return int(value)


def parse_creation(headers: Mapping[str, str], *, max_size: int) -> Creation:
    """A POST: ``Upload-Length`` (no deferred lengths) within ``max_size``, metadata."""
    check_version(headers)
    if "upload-defer-length" in headers:
        raise BadTusRequest("Deferred lengths (creation-defer-length) are not supported.")
    length = _integer(headers, "Upload-Length")
    if length > max_size:
        raise UploadTooLarge(f"Files are limited to {max_size} bytes.", max_size=max_size)
    return Creation(length, parse_metadata(headers.get("upload-metadata")))


def has_body(headers: Mapping[str, str]) -> bool:
    """Whether a POST carries its first chunk (creation-with-upload)."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == OFFSET_OCTET_STREAM


def parse_checksum(value: str | None) -> Checksum | None:
    """``Upload-Checksum: <algorithm> <base64 digest>`` (None if absent)."""
    if value is None:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise BadTusRequest(
            f"Checksum algorithms: {', '.join(CHECKSUM_ALGORITHMS)}.",
            tus_checksum_algorithm=",".join(CHECKSUM_ALGORITHMS),
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise BadTusRequest("Upload-Checksum's digest is not base64.") from None
    if len(digest) != hashlib.new(algorithm, usedforsecurity=False).digest_size:
        raise BadTusRequest("Upload-Checksum's digest has the wrong length.")
    return Checksum(algorithm, digest)


def parse_append(
    headers: Mapping[str, str], *, offset: int, length: int, creation: bool = False
) -> Append:
    """A PATCH (or a POST's body): content type, ``Upload-Offset`` equal to ``offset``,
    a declared ``Content-Length`` that fits in ``length``, the optional checksum. A POST
    with its first chunk (``creation``) may leave ``Upload-Offset`` out: it starts at 0."""
    check_version(headers)
    if not has_body(headers):
        raise WrongContentType(f"PATCH bodies are {OFFSET_OCTET_STREAM}.")
    implied = creation and headers.get("upload-offset") is None
    stated = 0 if implied else _integer(headers, "Upload-Offset")
    if stated != offset:
        raise OffsetMismatch(
            f"The upload is at offset {offset}, not {stated}.", upload_offset=offset
        )
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and offset + int(declared) > length:
        raise UploadTooLarge("The chunk goes past Upload-Length.", upload_length=length)
    return Append(stated, parse_checksum(headers.get("upload-checksum")))


def http_date(moment: datetime) -> str:
    """An RFC 9110 date, as ``Upload-Expires`` carries it."""
    return format_datetime(moment, usegmt=True)


def options_headers(*, max_size: int) -> dict[str, str]:
    """What OPTIONS advertises: version, extensions, size cap, checksum algorithms."""
    return {
        "Tus-Resumable": VERSION,
        "Tus-Version": VERSION,
        "Tus-Extension": ",".join(EXTENSIONS),
        "Tus-Max-Size": str(max_size),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
    }


def created_headers(location: str, expires: datetime, offset: int | None) -> dict[str, str]:
    """A 201 to POST: where the upload lives, when it expires, its offset if a body came."""
    headers = {"Tus-Resumable": VERSION, "Location": location, "Upload-Expires": http_date(expires)}
    if offset is not None:
        headers["Upload-Offset"] = str(offset)
    return headers


def offset_headers(offset: int, length: int, expires: datetime | None) -> dict[str, str]:
    """A HEAD's (and a PATCH's) answer: the offset, never cached."""
    headers = {
        "Tus-Resumable": VERSION,
        "Upload-Offset": str(offset),
        "Upload-Length": str(length),
        "Cache-Control": "no-store",
    }
    if expires is not None:
        headers["Upload-Expires"] = http_date(expires)
    return headers
