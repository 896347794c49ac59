"""Keep credentials out of logs: every log record is redacted before anyone can write it.

WebSocket clients carry their join token in the query string (browsers cannot set headers
on a WebSocket), and uvicorn, websockets and our own code log request paths and headers.
``install()`` redacts at two points so that no log call, today's or a future one, can leak
a credential: a log-record factory rewrites the message of every record as it is created
(whatever logger or handler it then goes to), and ``RedactingFilter`` on the root handler
also cleans the record's extra fields, exception text and stack.

What is redacted: the values of credential-like URL/form parameters (``token``,
``access_token``, ``refresh_token``, ``password``, ``api_key``, ...), ``Authorization``,
``Cookie`` and ``Set-Cookie`` header values, ``Bearer`` credentials, the password of a
``scheme://user:password@host`` URL, argon2 password hashes, and anything shaped
like one of our tokens (a JWT, a refresh token, an API key) wherever it appears.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

REDACTED = "[redacted]"

# Prefixes of the opaque refresh tokens and API keys (lms.accounts.tokens: REFRESH_PREFIX,
# API_KEY_PREFIX; a test keeps the two in step). ops knows no domain, only these shapes.
TOKEN_PREFIXES = ("lcr_", "lck_")

# A parameter whose name says it is a credential: token, access_token, refresh_token,
# id_token, client_secret, password, api_key, apikey, signature, credential, ...
_PARAM = re.compile(
    r"(?i)(?<![\w.-])"
    r"([\w.-]*(?:token|secret|passw(?:or)?d|api[_-]?key|signature|credential)[\w.-]*)"
    # not an SQL placeholder ("token_version=?", "=$1", "=%s", "=:name"): logged SQL stays legible
    r"=(?!(?:\?|\$\d+|%s|%\(\w+\)s)(?:[,)\s]|$))([^&#\s\"'<>]+)"
)
# A header that carries a credential, as text ("Authorization: Bearer x"), as a dict or tuple
# repr ("'authorization': 'Bearer x'", "(b'authorization', b'Bearer x')").
_HEADER = re.compile(
    r"(?i)(\b(?:proxy-)?authorization|\b(?:set-)?cookie|\bx-api-key)"
    r"(['\"]?\s*[:=,]\s*(?:b?['\"])?)((?:bearer|basic|digest|token)\s+)?([^'\"\r\n]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/-]{16,}=*")
# base64url(JSON header "{...") . payload . signature: every JWT starts with "eyJ".
# The password in a URL's user information: scheme://user:password@host.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@")
# An argon2 password hash ($argon2id$v=19$m=...,t=...,p=...$salt$hash), as SQL logs show it.
_PASSWORD_HASH = re.compile(r"\$argon2(?:id|i|d)\$[A-Za-z0-9+/=$,.-]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
_PREFIXED = re.compile(
    r"\b(" + "|".join(re.escape(p) for p in TOKEN_PREFIXES) + r")[A-Za-z0-9_-]{16,}"
)
# Every pattern above needs one of these literals (compared as case-insensitively as its
# pattern compares it, or more): text without any holds nothing to redact, found with one
# search instead of seven substitutions (every access-log line's fields pass through here).
_TRIGGER = re.compile(
    r"(?i)=|://|authorization|cookie|x-api-key|bearer|\$argon2|eyj|"
    + "|".join(re.escape(p) for p in TOKEN_PREFIXES)
)
LEAK = re.compile(f"{_JWT.pattern}|{_PREFIXED.pattern}")
"""Anything shaped like one of our tokens: what a log must never contain."""

_RESERVED = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def redact(text: str) -> str:
    """``text`` with every credential it carries replaced by ``[redacted]``."""
    if not text or _TRIGGER.search(text) is None:
        return text
    text = _HEADER.sub(lambda m: f"{m[1]}{m[2]}{m[3] or ''}{REDACTED}", text)
    text = _USERINFO.sub(lambda m: f"{m[1]}{REDACTED}@", text)
    text = _PARAM.sub(lambda m: f"{m[1]}={REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m[1]} {REDACTED}", text)
    text = _PASSWORD_HASH.sub(REDACTED, text)
    text = _JWT.sub(REDACTED, text)
    return _PREFIXED.sub(lambda m: f"{m[1]}{REDACTED}", text)


def _redact_message(record: logging.LogRecord) -> None:
    """Replace the record's message by its redacted text when it carried a credential."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string is the handler's to report
        return
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None


def redact_record(record: logging.LogRecord) -> None:
    """Redact a whole record in place: message, string extras, exception and stack text."""
    _redact_message(record)
    for name, value in vars(record).items():
        if name not in _RESERVED and isinstance(value, str):
            setattr(record, name, redact(value))
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactingFilter(logging.Filter):
    """A handler filter that redacts every record passing through (and drops none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def _redacting_factory(
    factory: Callable[..., logging.LogRecord],
) -> Callable[..., logging.LogRecord]:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        _redact_message(record)
        return record

    make.redacting = True  # type: ignore[attr-defined]
    return make


def install(handler: logging.Handler) -> None:
    """Redact every record this process creates, and everything ``handler`` writes."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "redacting", False):
        logging.setLogRecordFactory(_redacting_factory(factory))
    if not any(isinstance(f, RedactingFilter) for f in handler.filters):
        handler.addFilter(RedactingFilter())
