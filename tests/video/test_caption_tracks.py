"""WebVTT caption validation and BCP 47 language tags (pure)."""

from __future__ import annotations

import pytest

from lms.video import captions
from lms.video.errors import InvalidCaptions

GOOD = (
    "\ufeffWEBVTT - lecture 1\r\n\r\n"
    "NOTE written by hand\r\n\r\n"
    "STYLE\r\n::cue { color: red }\r\n\r\n"
    "2\r\n00:05.000 --> 00:07.500 align:start evil:1 position:10%\r\n<v Ana>Second</v>\r\n\r\n"
    "1\r\n00:00:01.000 --> 00:00:04.000\r\nFirst line\r\nand more\r\n"
)


def test_a_track_is_normalised() -> None:
    track = captions.validate(GOOD.encode())
    assert track.cues == 2
    assert track.text == (
        "WEBVTT\n\n"
        "1\n00:00:01.000 --> 00:00:04.000\nFirst line\nand more\n\n"
        "2\n00:00:05.000 --> 00:00:07.500 align:start position:10%\n<v Ana>Second</v>\n"
    )
    again = captions.validate(track.text.encode())
    assert again.text == track.text


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\xff\xfe\x00garbage", "UTF-8"),
        (b"1\n00:01.000 --> 00:02.000\nhi\n", "WEBVTT"),
        (b"WEBVTTX\n\n00:01.000 --> 00:02.000\nhi\n", "WEBVTT"),
        (b"WEBVTT\n\n00:01.000 -> 00:02.000\nhi\n", "start --> end"),
        (b"WEBVTT\n\n00:01.000 --> 00:0x.000\nhi\n", "not a time"),
        (b"WEBVTT\n\n00:03.000 --> 00:02.000\nhi\n", "ends before"),
        (b"WEBVTT\n\nNOTE only a note\n", "no cues"),
        (b"WEBVTT\n\nid\n\n", "needs"),
        (b"WEBVTT\n\n00:01.000 --> 00:02.000\nhi\x00\n", "NUL"),
        (b"WEBVTT\n\n00:01.000 --> 00:02.000\n" + b"x" * 2000 + b"\n", "over"),
        (b"WEBVTT\n\n" + b"00:01.000 --> 00:02.000\nhi\n\n" * 200_000, "larger than"),
    ],
)
def test_garbage_is_refused_with_a_reason(data: bytes, says: str) -> None:
    with pytest.raises(InvalidCaptions, match=says):
        captions.validate(data)


def test_too_many_cues() -> None:
    data = b"WEBVTT\n\n" + b"00:01.000 --> 00:02.000\n\n" * (captions.MAX_CUES + 1)
    with pytest.raises(InvalidCaptions, match="cues"):
        captions.validate(data)


@pytest.mark.parametrize(
    ("tag", "normal"),
    [
        ("en", "en"),
        ("EN-us", "en-US"),
        ("pt-br", "pt-BR"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("sr-Latn", "sr-Latn"),
        ("es-419", "es-419"),
        ("de-CH-1996", "de-CH-1996"),
        ("en-x-lecture", "en-x-lecture"),
    ],
)
def test_language_tags_are_normalised(tag: str, normal: str) -> None:
    assert captions.language_tag(tag) == normal


@pytest.mark.parametrize("tag", ["", "english language", "e", "en_US", "en--us", "a" * 70, "12"])
def test_bad_language_tags_are_refused(tag: str) -> None:
    with pytest.raises(InvalidCaptions, match="language tag"):
        captions.language_tag(tag)
