"""Video in real Chromium: fake camera and microphone, and waits on what the page plays."""

from __future__ import annotations

import itertools

from playwright.sync_api import Locator, Page, expect

FAKE_MEDIA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")
MEDIA_TIMEOUT_MS = 30_000
_ids = itertools.count()


def my_user_id(page: Page) -> str:
    user_id = page.evaluate("window.__liveclass.model.me.user_id")
    assert isinstance(user_id, str) and user_id
    return user_id


def video(page: Page, user_id: str, source: str = "camera") -> Locator:
    return page.locator(f'.tiles video[data-user-id="{user_id}"][data-source="{source}"]')


def frames(page: Page, user_id: str) -> int:
    count = video(page, user_id).evaluate("v => v.getVideoPlaybackQuality().totalVideoFrames")
    assert isinstance(count, int)
    return count


def expect_playing(page: Page, user_id: str) -> None:
    """The person's video shows real frames: a resolution, and a frame count that grows."""
    tile_video = video(page, user_id)
    expect(tile_video).to_have_attribute("data-state", "live", timeout=MEDIA_TIMEOUT_MS)
    handle = tile_video.element_handle()
    page.wait_for_function(
        "v => v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 0",
        arg=handle,
        timeout=MEDIA_TIMEOUT_MS,
    )
    before = frames(page, user_id)
    page.wait_for_function(
        "([v, n]) => v.getVideoPlaybackQuality().totalVideoFrames > n + 10",
        arg=[handle, before],
        timeout=MEDIA_TIMEOUT_MS,
    )


def wait_announced(page: Page, user_id: str, source: str, present: bool = True) -> None:
    page.wait_for_function(
        "([u, s, want]) => [...window.__liveclass.model.tracks.values()]"
        ".some(t => t.user_id === u && t.source === s) === want",
        arg=[user_id, source, present],
        timeout=MEDIA_TIMEOUT_MS,
    )


def control(page: Page, name: str) -> Locator:
    return page.locator("footer.controls").get_by_role("button", name=name)
