"""Structured logging: one JSON object per line, carrying the request id; no credentials.

Every record is redacted (``ops.redact``) before it is written: join tokens in WebSocket
query strings, Authorization headers and anything shaped like a token never reach a log.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from ops import redact
from ops.context import request_id_var

_RESERVED = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    """Format records as JSON with time, level, logger, message, request id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if request_id := request_id_var.get():
            entry["request_id"] = request_id
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            # The redacting filter has already put the (redacted) exception text here.
            entry["exception"] = record.exc_text
        return orjson.dumps(entry, default=str).decode()


def configure(*, level: str, fmt: str) -> None:
    """Route liveclass and uvicorn logs to stderr in the chosen format, redacted."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    redact.install(handler)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Our own access log replaces uvicorn's: it knows the route and request id.
    logging.getLogger("uvicorn.access").disabled = True
