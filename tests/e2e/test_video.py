"""Video and audio in real Chromium with fake camera and microphone, through the real SFU.

An instructor and two students, each in their own browser context. The tests run in file
order against one room: the instructor publishes camera and microphone, both students see
the video play and receive the sound, a student publishes and the instructor sees her, the
host stops her video and it stops for everyone, she turns it back on, and a student leaving
closes his peer connections. Every wait polls with a timeout; nothing is timed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from browserkit import Person, launch_browser, log_in, new_person, shot
from playwright.sync_api import Browser, Page, expect
from videokit import (
    FAKE_MEDIA,
    MEDIA_TIMEOUT_MS,
    control,
    expect_playing,
    my_user_id,
    video,
    wait_announced,
)

from kits.nodes import Node

pytestmark = pytest.mark.slow  # among the costliest modules: the workers start with them


@dataclass
class VideoClass:
    teacher: Person
    bea: Person
    cal: Person
    ids: dict[str, str]

    @property
    def everyone(self) -> tuple[Person, Person, Person]:
        return (self.teacher, self.bea, self.cal)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    yield from launch_browser(*FAKE_MEDIA)


@pytest.fixture(scope="module")
def klass(chromium: Browser, sqlite_node: Node) -> Iterator[VideoClass]:
    """The instructor opens a room; both students join by its link."""
    teacher = new_person(chromium, sqlite_node, "Ada Teacher", "instructor")
    bea = new_person(chromium, sqlite_node, "Bea Student")
    cal = new_person(chromium, sqlite_node, "Cal Student")
    log_in(teacher)
    page = teacher.page
    page.get_by_label("Class title").fill("Optics live")
    page.get_by_role("button", name="Create room").click()
    expect(page.locator(".room-title")).to_have_text("Optics live")
    link = page.url.removeprefix(sqlite_node.url)
    for student in (bea, cal):
        log_in(student, link)
        expect(student.page.locator(".room-title")).to_have_text("Optics live")
    for person in (teacher, bea, cal):
        expect(person.page.locator(".tiles .tile")).to_have_count(3)
    ids = {p.name: my_user_id(p.page) for p in (teacher, bea, cal)}
    found = VideoClass(teacher, bea, cal, ids)
    yield found
    for person in found.everyone:
        assert not person.errors, f"{person.name}: uncaught errors in the page: {person.errors}"
        person.close()


def announced(page: Page, user_id: str, source: str) -> Any:
    """Whether the room announced ``user_id``'s ``source`` as published (the model's tracks)."""
    return page.evaluate(
        "([u, s]) => [...window.__liveclass.model.tracks.values()]"
        ".some(t => t.user_id === u && t.source === s)",
        [user_id, source],
    )


# Playwright's wait_for_function does not await promises, so an interval in the page samples
# the receiver's statistics and the waits read the latest sample.
SAMPLE_RECEIVER = """([u, source]) => {
    const m = window.__liveclass.media
    const found = [...m.remote.values()]
        .find(r => r.info.user_id === u && r.info.source === source)
    const receiver = m.sub.getReceivers().find(r => r.track === found.track)
    window.__sampledPc = m.sub
    window.__bytes = { value: 0, since: performance.now() }
    clearInterval(window.__sampler)
    window.__sampler = setInterval(async () => {
        let value = null
        const stats = await receiver.getStats().catch(() => new Map())
        stats.forEach(s => { if (s.type === 'inbound-rtp') value = (value ?? 0) + s.bytesReceived })
        if (value === null) return  // no stream (yet), or its peer connection closed
        if (value !== window.__bytes.value) window.__bytes = { value, since: performance.now() }
    }, 200)
}"""
# True once the sampled receiver has received data and then nothing more for 2 s.
RECEIVER_IDLE = "() => window.__bytes.value > 0 && performance.now() - window.__bytes.since > 2000"


def sample_receiver(page: Page, user_id: str, source: str) -> None:
    """Start sampling the bytes received for ``user_id``'s ``source`` in ``page``."""
    page.evaluate(SAMPLE_RECEIVER, [user_id, source])


def wait_received(page: Page, more_than: int) -> int:
    """Wait until the sampled receiver got more than ``more_than`` bytes; return the count."""
    page.wait_for_function("n => window.__bytes.value > n", arg=more_than, timeout=MEDIA_TIMEOUT_MS)
    count = page.evaluate("window.__bytes.value")
    assert isinstance(count, int)
    return count


def test_instructor_publishes_camera_and_microphone(klass: VideoClass) -> None:
    page = klass.teacher.page
    me = klass.ids[klass.teacher.name]
    control(page, "Camera off").click()
    expect(control(page, "Camera on")).to_have_attribute("aria-pressed", "true")
    control(page, "Mic off").click()
    expect(control(page, "Mic on")).to_have_attribute("aria-pressed", "true")
    expect_playing(page, me)  # the local preview
    for person in klass.everyone:
        wait_announced(person.page, me, "camera")
        wait_announced(person.page, me, "microphone")
    shot(page, "video-01-instructor-publishes")


def test_students_see_and_hear_the_instructor(klass: VideoClass) -> None:
    teacher = klass.ids[klass.teacher.name]
    for student in (klass.bea, klass.cal):
        page = student.page
        expect_playing(page, teacher)
        tile = page.locator(f'.tiles .tile[data-user-id="{teacher}"][data-source="camera"]')
        expect(tile).to_have_class(re.compile(r"\bhas-video\b"))
        expect(tile.get_by_test_id("mic-off")).to_have_count(0)
        sink = page.locator(f'audio[data-user-id="{teacher}"][data-source="microphone"]')
        expect(sink).to_have_count(1, timeout=MEDIA_TIMEOUT_MS)
        # Sound arrives: the receiver of the instructor's microphone keeps receiving bytes.
        sample_receiver(page, teacher, "microphone")
        wait_received(page, wait_received(page, 0))
        shot(page, f"video-02-{student.name.split()[0].lower()}-sees-instructor")


def test_instructor_sees_a_student(klass: VideoClass) -> None:
    bea = klass.ids[klass.bea.name]
    control(klass.bea.page, "Camera off").click()
    expect(control(klass.bea.page, "Camera on")).to_have_attribute("aria-pressed", "true")
    expect_playing(klass.teacher.page, bea)
    expect_playing(klass.cal.page, bea)
    # Bea published no microphone: everyone sees her as muted.
    tile = klass.teacher.page.locator(f'.tiles .tile[data-user-id="{bea}"][data-source="camera"]')
    expect(tile.get_by_test_id("mic-off")).to_have_count(1)
    shot(klass.teacher.page, "video-03-instructor-sees-bea")


def test_host_stops_a_students_video_for_everyone(klass: VideoClass) -> None:
    teacher, bea = klass.ids[klass.teacher.name], klass.ids[klass.bea.name]
    page = klass.teacher.page
    sample_receiver(klass.cal.page, bea, "camera")
    wait_received(klass.cal.page, 0)
    page.get_by_role("button", name="Stop Bea Student's video").click()
    for person in klass.everyone:
        wait_announced(person.page, bea, "camera", present=False)
        expect(video(person.page, bea)).to_have_attribute("data-state", "stopped")
        expect(video(person.page, bea)).to_be_hidden()
    # Bea's own browser let go of the camera and says why.
    expect(control(klass.bea.page, "Camera off")).to_have_attribute("aria-pressed", "false")
    expect(klass.bea.page.get_by_text("A host stopped your video.")).to_be_visible()
    for person in (klass.teacher, klass.cal):
        gone = person.page.evaluate(
            "u => ![...window.__liveclass.media.remote.values()]"
            ".some(r => r.info.user_id === u && r.info.source === 'camera')",
            bea,
        )
        assert gone, f"{person.name} still receives Bea's camera"
    # The server stopped forwarding: the receiver that carried her video gets nothing more.
    klass.cal.page.wait_for_function(RECEIVER_IDLE, timeout=MEDIA_TIMEOUT_MS)
    # ...and that was a renegotiation of the same subscriber peer connection, not a new one.
    assert klass.cal.page.evaluate("window.__sampledPc === window.__liveclass.media.sub"), (
        "Cal's subscriber peer connection was replaced: the server closed it on renegotiation"
    )
    # Nobody else is affected: the instructor's video keeps playing for Cal.
    expect_playing(klass.cal.page, teacher)
    shot(klass.cal.page, "video-04-bea-stopped")


def test_student_turns_her_video_back_on(klass: VideoClass) -> None:
    bea = klass.ids[klass.bea.name]
    control(klass.bea.page, "Camera off").click()
    expect(control(klass.bea.page, "Camera on")).to_have_attribute("aria-pressed", "true")
    wait_announced(klass.teacher.page, bea, "camera")
    expect_playing(klass.teacher.page, bea)


def test_leaving_closes_peer_connections(klass: VideoClass) -> None:
    page = klass.cal.page
    cal = klass.ids[klass.cal.name]
    page.evaluate(
        "() => { clearInterval(window.__sampler); const m = window.__liveclass.media;"
        " window.__peers = [m.pub, m.sub].filter(Boolean) }"
    )
    assert page.evaluate("window.__peers.length") == 1  # Cal only subscribes
    page.get_by_role("link", name="Leave", exact=True).click()
    expect(page.locator(".room-title")).to_have_count(0)
    page.wait_for_function("window.__peers.every(pc => pc.connectionState === 'closed')")
    expect(klass.teacher.page.locator(f'.tiles .tile[data-user-id="{cal}"]')).to_have_count(0)
    # The others carry on: Bea still sees the instructor.
    expect_playing(klass.bea.page, klass.ids[klass.teacher.name])
    assert announced(klass.teacher.page, klass.ids[klass.teacher.name], "camera")
