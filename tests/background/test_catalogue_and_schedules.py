"""Pure parts of the jobs package: docs/events.md matches the catalogue, cron and interval
schedules, and a bad schedule or duplicate declaration is refused at start-up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobs.errors import InvalidSchedule, UnknownJobType
from jobs.events import Catalogue, Consumer, Event
from jobs.schedule import Every, parse
from jobs.types import JobRegistry, Periodic
from kits import jobs as jobkit
from kits.servers import ROOT
from parts import EVENT_TYPES


def at(text: str) -> datetime:
    """A UTC moment from ISO text."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_docs_events_md_is_the_catalogue() -> None:
    expected = Catalogue(EVENT_TYPES).markdown()
    current = (ROOT / "docs" / "events.md").read_text()
    assert current == expected, "run `liveclass events-doc > docs/events.md`"


@pytest.mark.parametrize(
    ("line", "after", "fires"),
    [
        ("*/15 * * * *", "2026-01-01T10:07:30", "2026-01-01T10:15:00"),
        ("0 3 * * *", "2026-01-01T03:00:00", "2026-01-02T03:00:00"),
        ("41 3 * * *", "2026-12-31T23:59:00", "2027-01-01T03:41:00"),
        ("0 0 1 * *", "2026-02-15T00:00:00", "2026-03-01T00:00:00"),
        ("30 9 * * 1-5", "2026-12-05T10:00:00", "2026-12-07T09:30:00"),  # Sat -> Mon
        ("0 12 * * 0", "2026-12-06T12:00:00", "2026-12-13T12:00:00"),  # Sunday, 0
        ("0 12 * * 7", "2026-12-06T12:00:00", "2026-12-13T12:00:00"),  # Sunday, 7
        ("0 0 13 * 5", "2026-12-01T00:00:00", "2026-12-04T00:00:00"),  # 13th or a Friday
        ("0 0 29 2 *", "2026-03-01T00:00:00", "2028-02-29T00:00:00"),
        ("5,10 1-2 * * *", "2026-01-01T01:06:00", "2026-01-01T01:10:00"),
    ],
)
def test_cron_lines_fire_when_cron_would(line: str, after: str, fires: str) -> None:
    assert parse(line).next_after(at(after)) == at(fires)


def test_intervals_fire_on_the_same_boundaries_everywhere() -> None:
    every = parse("@every 30s")
    assert every == Every(30)
    assert every.next_after(at("2026-01-01T00:00:29")) == at("2026-01-01T00:00:30")
    assert every.next_after(at("2026-01-01T00:00:30")) == at("2026-01-01T00:01:00")
    assert parse("@every 2h").next_after(at("2026-01-01T01:00:00")) == at("2026-01-01T02:00:00")


@pytest.mark.parametrize(
    "line",
    [
        "",
        "* * * *",
        "60 * * * *",
        "* 24 * * *",
        "* * 0 * *",
        "* * * 13 *",
        "*/0 * * * *",
        "a * * * *",
        "0 0 30 2 *",
        "@every 0s",
        "@every 5",
        "@every 5w",
    ],
)
def test_bad_schedules_are_refused(line: str) -> None:
    with pytest.raises(InvalidSchedule):
        parse(line)
    with pytest.raises(InvalidSchedule):
        JobRegistry(periodic=[Periodic(jobkit.PERIOD, line)])


def test_declarations_are_checked() -> None:
    with pytest.raises(ValueError, match="two job types"):
        JobRegistry([jobkit.EFFECT, jobkit.EFFECT.__class__("test.effect", jobkit.run_fail)])
    with pytest.raises(UnknownJobType):
        JobRegistry().get("nobody")

    async def nothing(_session: object, _event: Event) -> None:
        return None

    with pytest.raises(UnknownJobType):
        Catalogue([jobkit.NOTED], [Consumer("c", ("no.such.event",), nothing)])
    catalogue = Catalogue([jobkit.NOTED])
    with pytest.raises(ValueError, match="two event types"):
        catalogue.declare(jobkit.NOTED.__class__("test.noted", jobkit.Noted, "x", "other"))
