"""A real S3-compatible server for tests and benchmarks: moto's server mode on a free port."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from kits.servers import ServiceUnavailable, free_port, wait_for

ACCESS_KEY = "testing"
SECRET_KEY = "testing-secret"  # moto accepts any credentials


@dataclass(frozen=True)
class S3Server:
    """A running moto server and the environment that points a node at one of its buckets."""

    endpoint: str

    def create_bucket(self, name: str) -> str:
        """Create ``name`` (moto needs no signature for it) and return it."""
        response = httpx.put(f"{self.endpoint}/{name}", timeout=30)
        response.raise_for_status()
        return name

    def env(self, bucket: str) -> dict[str, str]:
        """LIVECLASS_ settings storing blobs in ``bucket``."""
        return {
            "LIVECLASS_BLOB_STORE": "s3",
            "LIVECLASS_S3_BUCKET": bucket,
            "LIVECLASS_S3_ENDPOINT": self.endpoint,
            "LIVECLASS_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "LIVECLASS_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }


@contextmanager
def s3_server() -> Iterator[S3Server]:
    """``python -m moto.server`` on a free port for the duration of the block."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="moto-", suffix=".log")[1])
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = S3Server(f"http://127.0.0.1:{port}")

    def up() -> bool:
        if process.poll() is not None:
            raise ServiceUnavailable(f"moto exited: {log.read_text()}")
        try:
            return httpx.get(f"{server.endpoint}/", timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, timeout=60, what="moto's S3 server")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.unlink(missing_ok=True)
