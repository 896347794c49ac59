"""A pytest plugin: no log written during the run may hold a token.

The nodes under test run as subprocesses (``kits.servers.LiveServer``) writing their logs to
``server-PORT.log`` in their data directory under pytest's temporary directory; the plugin
also puts a handler on the root logger of the test process itself. After every test it reads
what was written since the last look and fails the test's teardown if any line or record holds
something shaped like one of our tokens (a JWT, ``eyJ…``; a refresh token or an API key,
``ops.redact.LEAK``), naming the file and line. The leak is attributed to the test during
which it was written; what is written after the last test (a module's node stopping) is
searched when the session finishes.

The nodes log at WARNING unless told otherwise; ``pytest --server-debug-logs`` (or
``LIVECLASS_LOG_LEVEL=debug``) runs every node at DEBUG, so that a whole run searches every
line a node can write.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from ops.redact import LEAK, redact

# The test's own WebSocket client logs the URL it connects to (a join token in the query
# string) at DEBUG: that is the client's log, not the server's.
CLIENT_LOGGERS = ("websockets.client",)
MAX_REPORTED = 10


class _Records(logging.Handler):
    """Keeps, from every record of the test process, the ones that hold a token."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(CLIENT_LOGGERS):
            return
        try:
            text = record.getMessage()
        except Exception:  # a bad format string is not a leak
            return
        text += " " + " ".join(str(v) for v in vars(record).values() if isinstance(v, str))
        if LEAK.search(text):
            self.leaks.append(f"test process, logger {record.name}: {redact(text)[:300]}")


class LogLeaks:
    """Registered by ``tests/conftest.py``."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.records = _Records()
        self.seen: dict[Path, tuple[int, int]] = {}  # log file -> (bytes, lines) read

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        logging.getLogger().addHandler(self.records)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """A last look, for what was written after the last test (module fixtures)."""
        logging.getLogger().removeHandler(self.records)
        leaks = self.records.leaks + self._scan_server_logs()
        if leaks:
            print("\n" + _describe(leaks))  # printed with the run's summary
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> object:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
        if report.when != "teardown":
            return
        leaks = self.records.leaks + self._scan_server_logs()
        self.records.leaks = []
        if leaks:
            report.outcome = "failed"
            report.longrepr = _describe(leaks)

    def _scan_server_logs(self) -> list[str]:
        factory = getattr(self.config, "_tmp_path_factory", None)
        if factory is None:
            return []
        leaks = []
        for path in sorted(factory.getbasetemp().rglob("server-*.log")):
            leaks += self._scan(path)
        return leaks

    def _scan(self, path: Path) -> list[str]:
        """The leaking lines ``path`` got since the last look (whole lines only: a line
        still being written is read next time)."""
        offset, lines = self.seen.get(path, (0, 0))
        try:
            with path.open("rb") as file:
                file.seek(offset)
                data = file.read()
        except OSError:
            return []
        data = data[: data.rfind(b"\n") + 1]
        self.seen[path] = (offset + len(data), lines + data.count(b"\n"))
        text = data.decode(errors="replace").splitlines()
        return [
            f"{path}:{lines + number}: {redact(line)[:300]}"
            for number, line in enumerate(text, start=1)
            if LEAK.search(line)
        ]


def _describe(leaks: list[str]) -> str:
    shown = leaks[:MAX_REPORTED]
    if len(leaks) > MAX_REPORTED:
        shown.append(f"... and {len(leaks) - MAX_REPORTED} more")
    return "a log holds a token (shown redacted):\n" + "\n".join(shown)


def add_option(parser: pytest.Parser) -> None:
    """``--server-debug-logs``: every node of the run logs at DEBUG (and is searched)."""
    parser.addoption(
        "--server-debug-logs",
        action="store_true",
        help="run every liveclass node at LIVECLASS_LOG_LEVEL=debug; its logs are searched "
        "for tokens after each test either way",
    )


def configure(config: pytest.Config) -> None:
    """Register the plugin (from ``pytest_configure`` in conftest.py)."""
    if config.getoption("--server-debug-logs"):
        os.environ["LIVECLASS_LOG_LEVEL"] = "debug"
    config.pluginmanager.register(LogLeaks(config), "liveclass-log-leaks")
