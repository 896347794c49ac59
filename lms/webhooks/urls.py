"""What a receiver's URL may be, and the address a delivery connects to (SSRF rules).

Checked when an endpoint is created or changed, and again before every attempt (DNS may
have changed): the scheme is https (http only where the operator allows it), the URL
carries no credentials, and every address the host resolves to is public. Loopback and
private networks are allowed only with ``LIVECLASS_WEBHOOKS_ALLOW_PRIVATE``; link-local
(cloud metadata services), multicast, unspecified and reserved addresses never are. The
delivery then connects to the very address that was checked (no second lookup that a
rebinding DNS server could answer differently).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from lms.webhooks.errors import UnsafeUrl

MAX_URL = 2048
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        parts = urlsplit(self.url)
        host = f"[{self.address}]" if ":" in self.address else self.address
        return parts._replace(netloc=f"{host}:{self.port}").geturl()

    @property
    def host_header(self) -> str:
        """The Host header the receiver expects (its name, and the port if not default)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def check_syntax(url: str, *, allow_http: bool) -> SplitResult:
    """The parsed URL if its form is acceptable (UnsafeUrl otherwise); no DNS."""
    if len(url) > MAX_URL:
        raise UnsafeUrl(f"The URL is longer than {MAX_URL} characters.")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise UnsafeUrl("The URL contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("The URL is not valid (check its host and port).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrl("The URL must start with https:// (or http:// where allowed).")
    if scheme == "http" and not allow_http:
        raise UnsafeUrl("The URL must use https:// (plain http is not allowed here).")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("The URL must not carry a user name or password.")
    if not parts.hostname:
        raise UnsafeUrl("The URL has no host.")
    if parts.fragment:
        raise UnsafeUrl("The URL must not have a #fragment.")
    if port == 0:
        raise UnsafeUrl("The URL's port must be between 1 and 65535.")
    try:
        parts.hostname.encode("idna")
    except UnicodeError:
        raise UnsafeUrl("The URL's host name is not valid.") from None
    return parts


def refusal(address: Address, *, allow_private: bool) -> str | None:
    """Why a delivery must not connect to ``address`` (None: it may)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_loopback:
        return None if allow_private else "a loopback address"
    if address.is_private or not address.is_global:
        if allow_private and not address.is_reserved:
            return None
        return "a private or reserved address"
    return None


async def resolve(
    url: str, *, allow_http: bool, allow_private: bool, dns_seconds: float = 5.0
) -> Target:
    """Check ``url`` and the addresses its host resolves to; the target to connect to (the
    first address, once every one of them passed). UnsafeUrl if anything is refused."""
    parts = check_syntax(url, allow_http=allow_http)
    host = parts.hostname or ""
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    try:
        literal: Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        try:
            async with asyncio.timeout(dns_seconds):
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host.encode("idna").decode(), port, type=socket.SOCK_STREAM
                )
        except (OSError, UnicodeError, TimeoutError):
            raise UnsafeUrl(f"The host {host!r} does not resolve.") from None
        found = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if address not in found:
                found.append(address)
        if not found:
            raise UnsafeUrl(f"The host {host!r} does not resolve.")
    for address in found:
        reason = refusal(address, allow_private=allow_private)
        if reason is not None:
            raise UnsafeUrl(
                f"The host {host!r} resolves to {reason} ({address}), which is refused."
            )
    return Target(url=url, scheme=scheme, host=host, port=port, address=str(found[0]))
