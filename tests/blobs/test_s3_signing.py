"""The S3 multipart calls that stage tus uploads (`persistence.blobs.s3_multipart`) sign their
requests with our own Signature Version 4 code: it must sign exactly as AWS's own SDK does,
and a server that checks signatures must accept what it signs and refuse a wrong secret.

Two independent checks: botocore's signer (the one boto3 and the AWS CLI use) computes the
signature of the very request our client sends, for every call and for the awkward values
(upload ids with ``/``, ``+`` and ``=``, a key prefix, a session token, virtual-hosted
buckets); and moto's server, started to check signatures as S3 does, takes a whole
multipart upload from the client. moto's check refuses listing a bucket's multipart uploads
even when boto3 itself signs the request (a moto bug, seen with boto3's own
``list_multipart_uploads``), so the listing is covered by the botocore comparison only.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from kits.s3 import S3Server, s3_server
from persistence.blobs.s3 import S3Settings
from persistence.blobs.s3_multipart import MIN_PART, MultipartClient, MultipartError


@dataclass(frozen=True)
class Call:
    """One request as the client would send it."""

    method: str
    key: str
    query: dict[str, str]
    content: bytes = b""
    headers: dict[str, str] | None = None


CALLS = {
    "create": Call(
        "POST", "staging/u1/data", {"uploads": ""}, headers={"content-type": "video/mp4"}
    ),
    "part": Call("PUT", "staging/u1/data", {"partNumber": "7", "uploadId": "a/b+c=="}, b"x" * 999),
    "complete": Call(
        "POST", "staging/u1/data", {"uploadId": "id~1"}, b"<CompleteMultipartUpload/>"
    ),
    "abort": Call("DELETE", "staging/u1/data", {"uploadId": "id 2"}),
    "list": Call("GET", "", {"uploads": "", "prefix": "staging/"}),
}


def botocore_signature(client: MultipartClient, call: Call, *, token: str = "") -> str:
    """The Authorization header botocore computes for the request `client` sends for
    `call`, at the same instant (the request's own x-amz-date)."""
    path = client._path(call.key)
    query = client._query(call.query)
    ours = client._sign(call.method, path, query, call.content, call.headers or {})
    url = client._url(path, query)
    headers = {k: v for k, v in ours.items() if k != "authorization"}
    request = AWSRequest(method=call.method, url=url, data=call.content, headers=headers)
    request.context["timestamp"] = ours["x-amz-date"]
    credentials = client.credentials
    signer = S3SigV4Auth(
        BotoCredentials(credentials.access_key_id, credentials.secret_access_key, token or None),
        "s3",
        client.settings.region,
    )
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    assert ours["authorization"].endswith(f"Signature={signature}"), canonical
    return signature


SETTINGS = {
    "path style": S3Settings(
        bucket="liveclass",
        endpoint="http://127.0.0.1:9000",
        access_key_id="AK",
        secret_access_key="SK",
    ),
    "path style, prefix": S3Settings(
        bucket="liveclass",
        endpoint="https://s3.example.org:8443/",
        region="eu-west-3",
        prefix="school/files",
        access_key_id="AKIAEXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    "virtual-hosted": S3Settings(
        bucket="liveclass-files", region="us-west-2", access_key_id="AK", secret_access_key="SK"
    ),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
@pytest.mark.parametrize("settings", SETTINGS.values(), ids=SETTINGS.keys())
async def test_signed_as_botocore_signs(settings: S3Settings, call: Call) -> None:
    client = MultipartClient(settings)
    try:
        botocore_signature(client, call)
    finally:
        await client.close()


async def test_a_session_token_is_signed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials from the environment, with a session token (temporary credentials)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token/with+odd=chars")
    client = MultipartClient(S3Settings(bucket="liveclass", region="eu-central-1"))
    try:
        assert client.credentials.session_token == os.environ["AWS_SESSION_TOKEN"]
        for call in CALLS.values():
            botocore_signature(client, call, token=client.credentials.session_token)
    finally:
        await client.close()


@pytest.fixture(scope="module")
def checking() -> Iterator[S3Server]:
    """A moto server that refuses requests not signed by its IAM user's key pair."""
    with s3_server(check_signatures=True) as server:
        yield server


def settings_for(server: S3Server, bucket: str, *, secret: str | None = None) -> S3Settings:
    return S3Settings(
        bucket=bucket,
        endpoint=server.endpoint,
        access_key_id=server.access_key,
        secret_access_key=server.secret_key if secret is None else secret,
        prefix="school",
    )


def read_object(server: S3Server, bucket: str, key: str) -> bytes:
    s3 = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
    )
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


async def test_a_checking_server_takes_a_whole_multipart_upload(checking: S3Server) -> None:
    bucket = checking.create_bucket(f"b-{uuid.uuid4().hex[:12]}")
    client = MultipartClient(settings_for(checking, bucket))
    first, tail = os.urandom(MIN_PART), os.urandom(1234)
    try:
        upload = await client.create("staging/u1/data", content_type="application/pdf")
        etags = [
            await client.upload_part("staging/u1/data", upload, 1, first),
            await client.upload_part("staging/u1/data", upload, 2, tail),
        ]
        await client.complete("staging/u1/data", upload, etags)
        dropped = await client.create("staging/u2/data", content_type="video/mp4")
        await client.abort("staging/u2/data", dropped)
        await client.abort("staging/u2/data", dropped)  # gone already: not an error
    finally:
        await client.close()
    assert await asyncio.to_thread(read_object, checking, bucket, "school/staging/u1/data") == (
        first + tail
    )


async def test_a_wrong_secret_is_refused(checking: S3Server) -> None:
    """The check is real: the same calls signed with another secret are refused."""
    bucket = checking.create_bucket(f"b-{uuid.uuid4().hex[:12]}")
    client = MultipartClient(settings_for(checking, bucket, secret="not-the-secret"))
    try:
        with pytest.raises(MultipartError, match="SignatureDoesNotMatch"):
            await client.create("staging/u1/data", content_type="application/pdf")
    finally:
        await client.close()
