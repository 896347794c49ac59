"""Accessibility checks for the end-to-end tests: axe-core in the page, keyboard walking,
phone-sized touch contexts and where their screenshots go.

axe-core comes from the web app's own npm packages (static/node_modules, a locked
devDependency), injected into the page under test; nothing is fetched at run time.
Screenshots of the phone layout go to ``test-artifacts/e2e/phone/`` at the repository's
root (beside the other end-to-end screenshots).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from kits.servers import IN_CI, ROOT

AXE = ROOT / "static" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 320, "height": 640}
ZOOMED = {"width": 640, "height": 400}
"""A 1280 x 800 window at 200% zoom, in CSS pixels (WCAG 1.4.4 resize text)."""
PHONE_SHOTS = ROOT / "test-artifacts" / "e2e" / "phone"


def axe_available() -> None:
    if not AXE.exists():
        reason = f"{AXE} is missing (npm --prefix static ci)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)


# Violations that belong to another part of the app and are reported to its owners (issue 22):
# (rule, the node's CSS target). Remove an entry once fixed; nothing else is ever tolerated.
ELSEWHERE: set[tuple[str, str]] = set()


def axe_violations(page: Page, within: str | None = None) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.1 A and AA rules) on the page as it is now, or only inside the
    elements matching the CSS selector `within`; its violations (less those in ELSEWHERE)."""
    axe_available()
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # The app's CSP refuses inline scripts; evaluating over the DevTools protocol is allowed.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    result = page.evaluate(
        """async ([tags, within]) => {
            const options = {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']}
            const r = await axe.run(within ? {include: [[within]]} : document, options)
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
            }))
        }""",
        [WCAG_TAGS, within],
    )
    assert isinstance(result, list)
    kept = []
    for violation in result:
        nodes = [n for n in violation["nodes"] if (violation["id"], n["target"]) not in ELSEWHERE]
        if nodes:
            kept.append({**violation, "nodes": nodes})
    return kept


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(violations, indent=1)[:6000]


def expect_no_violations(page: Page, state: str) -> None:
    found = axe_violations(page)
    assert not found, f"axe found {len(found)} violation(s) in {state}:\n{describe(found)}"


def no_horizontal_scroll(page: Page) -> bool:
    """Whether the page fits its viewport's width (nothing makes it scroll sideways)."""
    return bool(
        page.evaluate(
            "() => document.scrollingElement.scrollWidth <= window.innerWidth + 1"
            " && document.body.scrollWidth <= window.innerWidth + 1"
        )
    )


def wider_than_viewport(page: Page) -> list[str]:
    """The elements sticking out past the viewport's right edge (for failure messages)."""
    found = page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter(el => {
              const r = el.getBoundingClientRect()
              return r.width > 0 && r.right > window.innerWidth + 1
                && getComputedStyle(el).position !== 'fixed'
           }).slice(0, 12).map(el => {
              const classes = typeof el.className === 'string' ? el.className.split(' ') : []
              const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
              const right = Math.round(el.getBoundingClientRect().right)
              return [name, ...classes].join('.') + ' ' + right
           })"""
    )
    assert isinstance(found, list)
    return [str(item) for item in found]


def focused(page: Page) -> dict[str, Any]:
    """What has keyboard focus: tag, accessible-ish name, id, role."""
    info = page.evaluate(
        """() => {
            const el = document.activeElement
            if (!el) return {}
            const label = el.getAttribute('aria-label') || el.textContent
            const name = (label || el.getAttribute('placeholder') || '').trim()
            const role = el.getAttribute('role') || ''
            return {tag: el.tagName.toLowerCase(), id: el.id, role, name}
        }"""
    )
    assert isinstance(info, dict)
    return info


def tab_until(page: Page, matches: Any, limit: int = 30, key: str = "Tab") -> int:
    """Press Tab until ``matches(focused(page))``; the number of presses it took."""
    for count in range(1, limit + 1):
        page.keyboard.press(key)
        if matches(focused(page)):
            return count
    raise AssertionError(f"not reached in {limit} presses of {key}; focus is on {focused(page)}")


def focus_ring_contrast(page: Page) -> float:
    """The contrast ratio of the focused element's outline against what is behind it."""
    ratio = page.evaluate(
        """() => {
            const el = document.activeElement
            const parse = (c) => {
                const m = c.match(/[\\d.]+/g).map(Number)
                return m.length > 3 && m[3] === 0 ? null : m.slice(0, 3)
            }
            const channel = (v) => {
                v /= 255
                return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4
            }
            const lum = ([r, g, b]) =>
                0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
            const style = getComputedStyle(el)
            if (style.outlineStyle === 'none' || parseFloat(style.outlineWidth) < 2) return 0
            const ring = parse(style.outlineColor)
            let node = el.parentElement, bg = null
            while (node && !bg) {
                bg = parse(getComputedStyle(node).backgroundColor)
                node = node.parentElement
            }
            bg = bg || [255, 255, 255]
            const [a, b] = [lum(ring), lum(bg)].sort((x, y) => y - x)
            return (a + 0.05) / (b + 0.05)
        }"""
    )
    assert isinstance(ratio, (int, float))
    return float(ratio)


def save_phone_shot(page: Page, name: str) -> Path:
    PHONE_SHOTS.mkdir(parents=True, exist_ok=True)
    path = PHONE_SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
