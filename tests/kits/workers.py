"""`liveclass worker` processes for tests: started against a database with the test job
module (``kits.jobs``), their output kept, signalled, killed at the end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from kits.servers import ROOT


class Worker:
    """A `liveclass worker` subprocess and its output."""

    def __init__(self, url: str, tmp: Path, name: str, **env: str) -> None:
        self.log = tmp / f"{name}.log"
        settings = {
            "LIVECLASS_DATABASE_URL": url,
            "LIVECLASS_DATA_DIR": str(tmp / "data"),
            "LIVECLASS_SECRET_KEY": "w" * 48,
            "LIVECLASS_JOBS_MODULES": "kits.jobs",
            "LIVECLASS_JOBS_LEASE_SECONDS": "4",
            "LIVECLASS_JOBS_POLL_SECONDS": "1",
            "LIVECLASS_LOG_LEVEL": "warning",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
            **env,
        }
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server", "worker"],
                cwd=ROOT,
                env={**os.environ, **settings},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while "started" not in self.output():
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, f"worker did not start:\n{self.output()}"
            time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = 60.0) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)
