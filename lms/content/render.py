"""A page's Markdown rendered to the HTML students read, made safe on the server.

markdown-it (CommonMark, raw HTML off) builds the HTML, then nh3 (the Rust `ammonia`
sanitizer) keeps only an allow-list of tags, attributes and URL schemes, so nothing a
page's editors type (a `<script>`, an `onerror=`, a `javascript:` link, a `data:` image)
reaches a reader's browser as code. Links leave with `rel="noopener noreferrer nofollow"`.
"""

from __future__ import annotations

from typing import Final

import nh3
from markdown_it import MarkdownIt

MAX_MARKDOWN_CHARS: Final = 1_000_000
"""A page longer than this is refused at publish (the Yjs document caps it well before)."""

TAGS: Final = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3",
        "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong",
        "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ATTRIBUTES: Final = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "td": {"style"},
    "th": {"style"},
}
SCHEMES: Final = frozenset({"http", "https", "mailto"})

_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


class PageTooLongError(ValueError):
    """The Markdown is longer than `MAX_MARKDOWN_CHARS`."""


def render(markdown: str) -> str:
    """Sanitized HTML for a page's Markdown source."""
    if len(markdown) > MAX_MARKDOWN_CHARS:
        raise PageTooLongError(f"a page may hold at most {MAX_MARKDOWN_CHARS} characters")
    return sanitize(_markdown.render(markdown))


def sanitize(html: str) -> str:
    """Only the allowed tags, attributes and URL schemes of `html`; everything else goes."""
    return nh3.clean(
        html,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(SCHEMES),
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
        strip_comments=True,
    )
