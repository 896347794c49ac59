"""The e-mails the platform writes, each as plain text and as HTML.

Everything that comes from people (a notification's title and body, names) is escaped in
the HTML part; links are absolute, made from ``LIVECLASS_PUBLIC_URL``. Templates are plain
functions: no template engine, nothing evaluated from data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import quote, urljoin

from lms.notifications.mail import Email

PRODUCT = "liveclass"
DEFAULT_PUBLIC_URL = "http://localhost:8000"


@dataclass(frozen=True)
class Item:
    """A notification as an e-mail shows it."""

    title: str
    body: str
    link: str | None
    category: str


def absolute(public_url: str, link: str | None) -> str | None:
    """``link`` (a path on this site, or already absolute) as an absolute URL."""
    if not link:
        return None
    base = (public_url or DEFAULT_PUBLIC_URL).rstrip("/") + "/"
    return urljoin(base, link.lstrip("/")) if not link.startswith(("http://", "https://")) else link


def _page(title: str, paragraphs: Sequence[str], *, action: tuple[str, str] | None = None) -> str:
    """An HTML e-mail: ``paragraphs`` are already-escaped HTML fragments."""
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title></head>",
        '<body style="font-family: system-ui, sans-serif; line-height: 1.5; color: #1a1a1a">',
        f'<h1 style="font-size: 1.25rem">{escape(title)}</h1>',
        *(f"<p>{p}</p>" for p in paragraphs),
    ]
    if action is not None:
        label, url = action
        parts.append(
            f'<p><a href="{escape(url, quote=True)}" style="color: #0b57d0">{escape(label)}</a></p>'
        )
    parts += [f'<p style="color: #555; font-size: 0.875rem">{PRODUCT}</p>', "</body></html>"]
    return "\n".join(parts)


def _paragraphs(text: str) -> list[str]:
    return [escape(p).replace("\n", "<br>") for p in text.split("\n\n") if p.strip()]


def notification(to: str, item: Item, *, public_url: str, settings_url: str) -> Email:
    """One notification, sent at once."""
    url = absolute(public_url, item.link)
    text = [item.title, "", item.body] if item.body else [item.title]
    if url:
        text += ["", f"Open: {url}"]
    text += ["", f"Change which e-mails you get: {settings_url}"]
    paragraphs = _paragraphs(item.body)
    paragraphs.append(
        f'<a href="{escape(settings_url, quote=True)}">Change which e-mails you get</a>'
    )
    html = _page(item.title, paragraphs, action=("Open", url) if url else None)
    return Email(to, f"[{PRODUCT}] {item.title}", "\n".join(text) + "\n", html)


def digest(to: str, items: Sequence[Item], *, public_url: str, settings_url: str) -> Email:
    """The daily digest: every notification kept for it since the last one."""
    count = len(items)
    title = f"Your daily digest: {count} notification{'s' if count != 1 else ''}"
    text = [title, ""]
    html_items = []
    for item in items:
        url = absolute(public_url, item.link)
        text.append(f"- {item.title}")
        if item.body:
            text += [f"  {line}" for line in item.body.splitlines()]
        if url:
            text.append(f"  {url}")
        entry = f"<strong>{escape(item.title)}</strong>"
        if item.body:
            entry += "<br>" + escape(item.body).replace("\n", "<br>")
        if url:
            entry += f'<br><a href="{escape(url, quote=True)}">Open</a>'
        html_items.append(entry)
    text += ["", f"Change which e-mails you get: {settings_url}"]
    html_items.append(
        f'<a href="{escape(settings_url, quote=True)}">Change which e-mails you get</a>'
    )
    return Email(to, f"[{PRODUCT}] {title}", "\n".join(text) + "\n", _page(title, html_items))


def verify_email(to: str, name: str, *, url: str, hours: int) -> Email:
    """The address verification e-mail."""
    title = "Confirm your e-mail address"
    text = (
        f"Hello {name},\n\nConfirm that this is your address for {PRODUCT} by opening this "
        f"link within {hours} hours:\n\n{url}\n\nIf you did not create an account, ignore "
        "this e-mail.\n"
    )
    html = _page(
        title,
        [
            f"Hello {escape(name)},",
            f"Confirm that this is your address for {PRODUCT} within {hours} hours.",
            "If you did not create an account, ignore this e-mail.",
        ],
        action=("Confirm my address", url),
    )
    return Email(to, f"[{PRODUCT}] {title}", text, html)


def password_reset(to: str, name: str, *, url: str, minutes: int) -> Email:
    """The password reset e-mail."""
    title = "Reset your password"
    text = (
        f"Hello {name},\n\nSomeone (we hope you) asked to reset your {PRODUCT} password. "
        f"Choose a new one with this link within {minutes} minutes; it works once:\n\n{url}\n\n"
        "If you did not ask, ignore this e-mail: your password stays as it is.\n"
    )
    html = _page(
        title,
        [
            f"Hello {escape(name)},",
            f"Someone (we hope you) asked to reset your {PRODUCT} password. The link works "
            f"once, within {minutes} minutes.",
            "If you did not ask, ignore this e-mail: your password stays as it is.",
        ],
        action=("Choose a new password", url),
    )
    return Email(to, f"[{PRODUCT}] {title}", text, html)


def page_url(public_url: str, path: str, **query: str) -> str:
    """An absolute URL of one of the web app's pages, with ``query`` parameters."""
    url = absolute(public_url, path) or path
    if query:
        url += "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
    return url
