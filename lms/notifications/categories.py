"""Notification categories, declared once: what each is about and its default delivery.

A category decides how a notification is e-mailed (``immediately``, ``daily_digest``,
``off``); a person may change that per category (their preferences). The inbox, the bell and
Web Push always follow it too: ``off`` keeps the notification in the inbox only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Delivery(StrEnum):
    """How a category's notifications reach a person beyond the inbox."""

    IMMEDIATELY = "immediately"
    DAILY_DIGEST = "daily_digest"
    OFF = "off"


@dataclass(frozen=True)
class Category:
    """One kind of notification: its name, a label for the preferences page, its default."""

    name: str
    label: str
    default: Delivery


ACCOUNT = Category("account", "Your account", Delivery.IMMEDIATELY)
RECORDINGS = Category("recordings", "Recordings of your classes", Delivery.IMMEDIATELY)
SYSTEM = Category("system", "Announcements from the operators", Delivery.DAILY_DIGEST)
GRADES = Category("grades", "Your grades", Delivery.DAILY_DIGEST)
WORKSHOPS = Category("workshops", "Workshops you registered for", Delivery.IMMEDIATELY)
COHORTS = Category("cohorts", "Announcements in your cohorts", Delivery.IMMEDIATELY)

CATEGORIES: dict[str, Category] = {
    c.name: c for c in (ACCOUNT, RECORDINGS, SYSTEM, GRADES, WORKSHOPS, COHORTS)
}
"""Every category by name (later issues add courses, grades, ...)."""


def category(name: str) -> Category:
    """The category named ``name`` (KeyError if none: callers pass declared constants)."""
    return CATEGORIES[name]
