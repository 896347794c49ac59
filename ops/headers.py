"""Security headers: the ones every page of ours sends, and ``nosniff`` on every response.

``X-Content-Type-Options: nosniff`` goes on every HTTP response (added by
``ops.requests.RequestContextMiddleware``), so no browser ever guesses a type other than the
one we declare: a JSON body or a problem document is never run as a script or styled as a
stylesheet. Pages (the web app, ``/docs``) add ``SECURITY_HEADERS`` and a content policy.
"""

from __future__ import annotations

NOSNIFF = (b"x-content-type-options", b"nosniff")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def with_nosniff(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` (raw ASGI pairs) with ``X-Content-Type-Options: nosniff``, once."""
    if any(name.lower() == NOSNIFF[0] for name, _ in headers):
        return headers
    return [*headers, NOSNIFF]
