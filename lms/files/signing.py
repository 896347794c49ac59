"""Short-lived signed links to blobs: HMAC-SHA256 with the node's secret over the blob key,
the expiry, the disposition, the name and the type, so none can be changed or reused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from lms.files.errors import LinkRefused

PREFIX = "/blobs/"


@dataclass(frozen=True)
class Link:
    """What a signed link serves: which blob, as what, until when (Unix seconds)."""

    key: str
    expires: int
    disposition: str  # "inline" or "attachment"
    name: str
    content_type: str

    def _message(self) -> bytes:
        parts = (self.key, str(self.expires), self.disposition, self.name, self.content_type)
        return "\n".join(parts).encode()


def _mac(secret: str, link: Link) -> str:
    digest = hmac.digest(secret.encode(), link._message(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(secret: str, link: Link) -> str:
    """The path and query of ``link`` (relative to the node's origin)."""
    query = urlencode(
        {
            "exp": link.expires,
            "d": link.disposition,
            "n": link.name,
            "t": link.content_type,
            "sig": _mac(secret, link),
        }
    )
    return f"{PREFIX}{quote(link.key)}?{query}"


def verify(secret: str, key: str, query: dict[str, str], *, now: float | None = None) -> Link:
    """The link a request presents, if its signature holds and it has not expired."""
    try:
        link = Link(
            key=key,
            expires=int(query["exp"]),
            disposition=query["d"],
            name=query["n"],
            content_type=query["t"],
        )
        signature = query["sig"]
    except (KeyError, ValueError):
        raise LinkRefused("This link is incomplete.") from None
    if not hmac.compare_digest(_mac(secret, link), signature):
        raise LinkRefused("This link's signature does not match.")
    if link.expires < (time.time() if now is None else now):
        raise LinkRefused("This link has expired; ask for a new one.")
    return link


MEDIA_PREFIX = "/media/"


@dataclass(frozen=True)
class PrefixGrant:
    """Every blob under ``prefix`` until ``expires`` (Unix seconds): a video's playlists,
    segments, poster and captions, fetched one after another by a player."""

    prefix: str
    expires: int

    def covers(self, key: str) -> bool:
        """Whether ``key`` lies under the prefix (no dot segments can climb out)."""
        parts = key.split("/")
        return key.startswith(self.prefix) and ".." not in parts and "." not in parts


def _prefix_mac(secret: str, prefix: str, expires: int) -> str:
    message = f"prefix\n{prefix}\n{expires}".encode()
    digest = hmac.digest(secret.encode(), message, hashlib.sha256)
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_prefix(secret: str, grant: PrefixGrant) -> str:
    """The path under which the granted blobs are served: relative URLs inside a playlist
    resolve under it, so one token serves the whole ladder."""
    encoded = base64.urlsafe_b64encode(grant.prefix.encode()).decode().rstrip("=")
    token = f"{encoded}.{grant.expires}.{_prefix_mac(secret, grant.prefix, grant.expires)}"
    return f"{MEDIA_PREFIX}{token}/{quote(grant.prefix)}"


def verify_prefix(secret: str, token: str, key: str, *, now: float | None = None) -> PrefixGrant:
    """The grant a media path presents, if its signature holds, it has not expired and it
    covers ``key``."""
    try:
        encoded, expires_text, signature = token.split(".")
        prefix = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        grant = PrefixGrant(prefix, int(expires_text))
    except (ValueError, UnicodeDecodeError):
        raise LinkRefused("This link is incomplete.") from None
    if not hmac.compare_digest(_prefix_mac(secret, grant.prefix, grant.expires), signature):
        raise LinkRefused("This link's signature does not match.")
    if grant.expires < (time.time() if now is None else now):
        raise LinkRefused("This link has expired; ask for a new one.")
    if not grant.covers(key):
        raise LinkRefused("This link does not cover that file.")
    return grant
