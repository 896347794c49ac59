"""A real S3-compatible server for tests and benchmarks: moto's server mode on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx

from kits.servers import ServiceUnavailable, free_port, wait_for

ACCESS_KEY = "testing"
SECRET_KEY = "testing-secret"  # moto accepts any credentials unless it checks signatures
SETUP_CALLS = 3
"""The IAM calls a signature-checking server lets through unsigned: a user, its access key
and its policy (moto checks every request after its first ``INITIAL_NO_AUTH_ACTION_COUNT``)."""
ALLOW_S3 = (
    '{"Version": "2012-10-17", "Statement": '
    '[{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'
)


@dataclass(frozen=True)
class S3Server:
    """A running moto server and the environment that points a node at one of its buckets."""

    endpoint: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def create_bucket(self, name: str) -> str:
        """Create ``name`` (a request signed with the server's key pair) and return it."""
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )
        client.create_bucket(Bucket=name)
        return name

    def env(self, bucket: str) -> dict[str, str]:
        """LIVECLASS_ settings storing blobs in ``bucket``."""
        return {
            "LIVECLASS_BLOB_STORE": "s3",
            "LIVECLASS_S3_BUCKET": bucket,
            "LIVECLASS_S3_ENDPOINT": self.endpoint,
            "LIVECLASS_S3_ACCESS_KEY_ID": self.access_key,
            "LIVECLASS_S3_SECRET_ACCESS_KEY": self.secret_key,
        }


def _signing_key(endpoint: str) -> tuple[str, str]:
    """An IAM user allowed every S3 action, and its new key pair (the setup calls)."""
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    iam.create_user(UserName="liveclass")
    pair = iam.create_access_key(UserName="liveclass")["AccessKey"]
    iam.put_user_policy(UserName="liveclass", PolicyName="s3", PolicyDocument=ALLOW_S3)
    return str(pair["AccessKeyId"]), str(pair["SecretAccessKey"])


@contextmanager
def s3_server(*, check_signatures: bool = False) -> Iterator[S3Server]:
    """``python -m moto.server`` on a free port for the duration of the block; with
    ``check_signatures`` it refuses any request not signed (Signature Version 4) by the key
    pair of an IAM user it knows, as S3 does: the server's pair is then that user's."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="moto-", suffix=".log")[1])
    env = dict(os.environ)
    if check_signatures:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(SETUP_CALLS)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    endpoint = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if process.poll() is not None:
            raise ServiceUnavailable(f"moto exited: {log.read_text()}")
        try:  # moto's own API: not an S3 or IAM action, so not one of the setup calls
            return httpx.get(f"{endpoint}/moto-api/", timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, timeout=60, what="moto's S3 server")
        if check_signatures:
            yield S3Server(endpoint, *_signing_key(endpoint))
        else:
            yield S3Server(endpoint)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.unlink(missing_ok=True)
