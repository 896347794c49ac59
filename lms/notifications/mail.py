"""Sending e-mail: an ``Email`` (subject, plain-text and HTML parts) through SMTP with
aiosmtplib, or, with no ``LIVECLASS_SMTP_HOST``, written to the log instead of sent.

``Mailer.send`` raises ``MailNotSent`` when the server refuses or cannot be reached: the
job that called it is retried with backoff. Every message carries a ``Message-ID`` derived
from the job's key, so a receiver that sees a retried message twice can tell.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from settings import Settings

logger = logging.getLogger("liveclass.mail")


class MailNotSent(Exception):
    """The SMTP server refused the message or could not be reached (the job retries)."""


@dataclass(frozen=True)
class Email:
    """One message to one address: a subject and the same content as text and as HTML."""

    to: str
    subject: str
    text: str
    html: str


class Mailer:
    """Sends ``Email``s with the SMTP settings of the node (or logs them)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def sends(self) -> bool:
        """Whether an SMTP server is configured (otherwise messages are only logged)."""
        return bool(self.settings.smtp_host)

    def message(self, email: Email, *, key: str) -> EmailMessage:
        """The MIME message of ``email`` (multipart/alternative: text, then HTML)."""
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        domain = self.settings.smtp_from.rpartition("@")[2].strip("> ") or "liveclass"
        message["Message-ID"] = make_msgid(idstring=_safe(key), domain=domain)
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        return message

    async def send(self, email: Email, *, key: str) -> None:
        """Send ``email`` (``key`` names the job sending it); MailNotSent on failure."""
        message = self.message(email, key=key)
        s = self.settings
        if not s.smtp_host:
            logger.info(
                "e-mail not sent (no LIVECLASS_SMTP_HOST): to %s, subject %r:\n%s",
                email.to,
                email.subject,
                email.text,
            )
            return
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password or None,
                start_tls=s.smtp_starttls and not s.smtp_tls,
                use_tls=s.smtp_tls,
                timeout=s.smtp_timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailNotSent(f"{type(exc).__name__}: {exc}") from exc


def _safe(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "-" for c in key)[:100]
