"""S3 multipart uploads that outlive the process that started them, for staging tus uploads
in the bucket (`lms.files.s3_staging`).

obstore writes multipart uploads only from one open writer, whose upload id it keeps to
itself, so a part sent from another node cannot join it. These four calls
(CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload) are plain
signed HTTP requests (AWS Signature Version 4) over httpx: an upload id and its parts'
ETags are values any node can store and continue from.

Credentials: the store's access key and secret, else the `AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`) environment variables.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote
from xml.sax.saxutils import escape, unescape

import httpx

from persistence.blobs.s3 import S3Settings
from persistence.blobs.store import BlobError, check_key

MIN_PART = 5 << 20
"""S3's smallest part but the last."""

_UPLOAD_ID = re.compile(rb"<UploadId>([^<]+)</UploadId>")
_UPLOAD = re.compile(rb"<Upload>(.*?)</Upload>", re.S)
_FIELD = {
    name: re.compile(rb"<%s>([^<]+)</%s>" % (name, name))
    for name in (b"Key", b"UploadId", b"Initiated")
}


class MultipartError(BlobError):
    """The S3 server refused a multipart call (the message has its answer)."""


@dataclass(frozen=True)
class Credentials:
    """An access key pair (and session token) that signs requests."""

    access_key_id: str
    secret_access_key: str
    session_token: str = ""

    @classmethod
    def of(cls, settings: S3Settings) -> Credentials:
        """The settings' keys, else the AWS environment variables."""
        if settings.access_key_id:
            return cls(settings.access_key_id, settings.secret_access_key)
        key = os.environ.get("AWS_ACCESS_KEY_ID", "")
        if not key:
            raise MultipartError("staging uploads in S3 needs an access key (settings or AWS_*)")
        secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
        return cls(key, secret, os.environ.get("AWS_SESSION_TOKEN", ""))


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _encode(text: str, *, slash: bool = False) -> str:
    """RFC 3986 encoding as Signature Version 4 wants it (unreserved characters kept)."""
    return quote(text, safe="/~" if slash else "~")


class MultipartClient:
    """The multipart calls on one bucket, signed with Signature Version 4."""

    def __init__(self, settings: S3Settings, *, timeout: float = 60.0) -> None:
        self.settings = settings
        self.credentials = Credentials.of(settings)
        region = settings.region or "us-east-1"
        if settings.endpoint:  # path style: <endpoint>/<bucket>/<key>
            self._base = f"{settings.endpoint.rstrip('/')}/{_encode(settings.bucket)}"
        else:
            self._base = f"https://{settings.bucket}.s3.{region}.amazonaws.com"
        self._host = httpx.URL(self._base).netloc.decode()
        self._root = httpx.URL(self._base).path.rstrip("/")
        self._region = region
        self._http = httpx.AsyncClient(timeout=timeout)

    async def close(self) -> None:
        """Release the connections."""
        await self._http.aclose()

    def _full(self, key: str) -> str:
        prefix = self.settings.prefix.strip("/")
        return f"{prefix}/{key}" if prefix else key

    def _path(self, key: str) -> str:
        if not key:  # the bucket itself
            return f"{self._root}/"
        return f"{self._root}/{_encode(self._full(check_key(key)), slash=True)}"

    async def create(self, key: str, *, content_type: str) -> str:
        """Start a multipart upload of `key`; its upload id."""
        body = await self._call(
            "POST", key, {"uploads": ""}, headers={"content-type": content_type}
        )
        found = _UPLOAD_ID.search(body.content)
        if found is None:
            raise MultipartError(f"no UploadId in {body.content[:200]!r}")
        return found.group(1).decode()

    async def upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        """Send part `number` (1-based); its ETag, which completing needs."""
        query = {"partNumber": str(number), "uploadId": upload_id}
        answer = await self._call("PUT", key, query, content=data)
        etag = answer.headers.get("etag")
        if not etag:
            raise MultipartError(f"part {number} of {key} got no ETag")
        return str(etag)

    async def complete(self, key: str, upload_id: str, etags: list[str]) -> None:
        """Join the parts, in order, into the object."""
        parts = "".join(
            f"<Part><PartNumber>{n}</PartNumber><ETag>{escape(etag)}</ETag></Part>"
            for n, etag in enumerate(etags, start=1)
        )
        body = f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode()
        answer = await self._call("POST", key, {"uploadId": upload_id}, content=body)
        if b"<Error>" in answer.content:  # S3 may answer 200 and fail in the body
            raise MultipartError(f"completing {key}: {answer.content[:300]!r}")

    async def abort(self, key: str, upload_id: str) -> None:
        """Drop the upload and its parts (an unknown upload is not an error)."""
        try:
            await self._call("DELETE", key, {"uploadId": upload_id})
        except MultipartError as exc:
            if "NoSuchUpload" not in str(exc):
                raise

    async def unfinished(self, prefix: str) -> list[tuple[str, str, datetime]]:
        """(key, upload id, when it began) of the multipart uploads under `prefix` not
        completed nor aborted (the first thousand: enough for a periodic sweep)."""
        answer = await self._call("GET", "", {"uploads": "", "prefix": self._full(prefix)})
        prefix_part = self.settings.prefix.strip("/")
        strip = f"{prefix_part}/" if prefix_part else ""
        found = []
        for entry in _UPLOAD.findall(answer.content):
            fields = {k: m.group(1).decode() for k, r in _FIELD.items() if (m := r.search(entry))}
            if len(fields) == len(_FIELD):
                began = datetime.fromisoformat(fields[b"Initiated"].replace("Z", "+00:00"))
                key = unescape(fields[b"Key"]).removeprefix(strip)
                found.append((key, fields[b"UploadId"], began))
        return found

    async def _call(
        self,
        method: str,
        key: str,
        query: dict[str, str],
        *,
        content: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        path = self._path(key)
        canonical_query = self._query(query)
        signed = self._sign(method, path, canonical_query, content, headers or {})
        url = self._url(path, canonical_query)
        try:
            answer = await self._http.request(method, url, content=content, headers=signed)
        except httpx.HTTPError as exc:
            raise MultipartError(f"{method} {key}: {exc}") from exc
        if answer.status_code >= 300:
            raise MultipartError(f"{method} {key}: {answer.status_code} {answer.text[:300]}")
        return answer

    @staticmethod
    def _query(query: dict[str, str]) -> str:
        """The query string, sent as signed: sorted, each name and value encoded."""
        return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(query.items()))

    def _url(self, path: str, query: str) -> str:
        return f"{self._base.removesuffix(self._root)}{path}?{query}"

    def _sign(
        self, method: str, path: str, query: str, content: bytes, extra: dict[str, str]
    ) -> dict[str, str]:
        now = datetime.now(UTC)
        stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        payload = hashlib.sha256(content).hexdigest()
        headers = {
            "host": self._host,
            "x-amz-date": stamp,
            "x-amz-content-sha256": payload,
            **{k.lower(): v for k, v in extra.items()},
        }
        if self.credentials.session_token:
            headers["x-amz-security-token"] = self.credentials.session_token
        names = sorted(headers)
        canonical = "\n".join(
            [
                method,
                path,
                query,
                "".join(f"{n}:{headers[n].strip()}\n" for n in names),
                ";".join(names),
                payload,
            ]
        )
        scope = f"{day}/{self._region}/s3/aws4_request"
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{digest}"
        key = _hmac(f"AWS4{self.credentials.secret_access_key}".encode(), day)
        for part in (self._region, "s3", "aws4_request"):
            key = _hmac(key, part)
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.credentials.access_key_id}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        )
        del headers["host"]  # httpx sets it from the URL
        return headers
