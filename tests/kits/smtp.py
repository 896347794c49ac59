"""A real SMTP server for tests: aiosmtpd on a free port, in a thread of the test process.

``SmtpServer`` keeps every message it accepted (parsed, with both MIME parts at hand) and
can refuse on purpose (``refuse = True``: every message gets ``451`` until it is set back),
to show that a node's mail job retries and then sends once. ``env`` gives the node the
settings that point it here.
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from kits.servers import free_port


@dataclass(frozen=True)
class Received:
    """One accepted message."""

    to: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None, "no text/plain part"
        return str(part.get_content())

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None, "no text/html part"
        return str(part.get_content())


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, _server: Any, _session: Any, envelope: Any
    ) -> str:
        with self.server.lock:
            self.server.attempts += 1
            if self.server.refuse:
                self.server.refused += 1
                return "451 4.3.0 try again later"
            raw = envelope.original_content or envelope.content
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.server.messages.append(Received(list(envelope.rcpt_tos), parsed))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1 and a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.lock = threading.Lock()
        self.messages: list[Received] = []
        self.refuse = False
        self.refused = 0
        self.attempts = 0
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def env(self) -> dict[str, str]:
        """The node settings that send its mail here."""
        return {
            "LIVECLASS_SMTP_HOST": "127.0.0.1",
            "LIVECLASS_SMTP_PORT": str(self.port),
            "LIVECLASS_SMTP_STARTTLS": "false",
            "LIVECLASS_SMTP_FROM": "liveclass <no-reply@liveclass.test>",
        }

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[Received]:
        """The messages accepted for ``address``."""
        with self.lock:
            return [m for m in self.messages if address in m.to]

    def wait_for(
        self,
        address: str,
        *,
        count: int = 1,
        timeout: float = 30.0,
        where: Callable[[Received], bool] = lambda _m: True,
    ) -> list[Received]:
        """Wait until ``count`` matching messages for ``address`` arrived; return them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.to(address) if where(m)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} of {count} e-mails to {address} arrived")
            time.sleep(0.05)


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    """An ``SmtpServer`` for the block."""
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()
