"""The node carrying a class's video dies: the browsers start over on a survivor by themselves.

Three nodes on one PostgreSQL and one Redis; both browsers talk to node ``a``, the room's
media is placed on node ``owner`` (by far the largest capacity). The owner is killed; the
room channel tells both pages ``media.reconnect`` and, without anyone clicking, the
instructor's camera is published again through a surviving node and plays for the student.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browserkit import launch_browser, log_in, new_person, room_id_of
from playwright.sync_api import Browser, Page, expect
from videokit import FAKE_MEDIA, MEDIA_TIMEOUT_MS, control, expect_playing, my_user_id

from kits.cluster import Cluster, media_cluster, placed, private_redis
from kits.redis_server import RedisServer
from kits.servers import PostgresServer

pytestmark = pytest.mark.slow  # among the costliest modules: the workers start with them

TTL = "3"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser(*FAKE_MEDIA)


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    yield from private_redis()


@pytest.fixture
def trio(redis: RedisServer, pg_server: PostgresServer, tmp_path: Path) -> Iterator[Cluster]:
    """Nodes a, b and owner (see ``kits.cluster.media_cluster``)."""
    common = {
        "LIVECLASS_PRESENCE_TTL_SECONDS": TTL,
        "LIVECLASS_MEDIA_PLACEMENT_TTL_SECONDS": TTL,
    }
    with media_cluster(redis, pg_server, tmp_path, **common) as cluster:
        yield cluster


# The id of the camera track of user ``u`` that the page receives, or null.
CAMERA_TRACK = (
    "u => ([...window.__liveclass.media.remote.values()]"
    ".find(r => r.info.user_id === u && r.info.source === 'camera') || {info: {track_id: null}})"
    ".info.track_id"
)


def camera_track(page: Page, user_id: str) -> str | None:
    found = page.evaluate(f"u => ({CAMERA_TRACK})(u)", user_id)
    return found if isinstance(found, str) else None


def test_video_comes_back_through_a_survivor(
    chromium: Browser, trio: Cluster, redis: RedisServer
) -> None:
    a, _b, owner = trio.nodes
    teacher = new_person(chromium, a, "Ada Teacher", "instructor")
    student = new_person(chromium, a, "Bea Student")
    try:
        log_in(teacher)
        page = teacher.page
        page.get_by_label("Class title").fill("Failover live")
        page.get_by_role("button", name="Create room").click()
        expect(page.locator(".room-title")).to_have_text("Failover live")
        room_id = room_id_of(page)
        log_in(student, page.url.removeprefix(a.url))
        expect(student.page.locator(".room-title")).to_have_text("Failover live")
        me = my_user_id(page)
        control(page, "Camera off").click()
        expect(control(page, "Camera on")).to_have_attribute("aria-pressed", "true")
        expect_playing(student.page, me)
        assert placed(redis, room_id) == "node-owner"

        owner.server.kill()
        before = camera_track(student.page, me)
        assert before
        owner.server.kill()
        # Nobody clicks anything: the pages are told to reconnect and publish again.
        student.page.wait_for_function(
            f"([u, old]) => {{ const now = ({CAMERA_TRACK})(u); return !!now && now !== old }}",
            arg=[me, before],
            timeout=MEDIA_TIMEOUT_MS,
        )
        expect_playing(student.page, me)
        expect(control(page, "Camera on")).to_have_attribute("aria-pressed", "true")
        assert placed(redis, room_id) in ("node-a", "node-b")
    finally:
        for person in (teacher, student):
            person.close()
    for person in (teacher, student):
        assert not person.errors, f"{person.name}: uncaught errors in the page: {person.errors}"
