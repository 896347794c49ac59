"""The one native part: the SFU's SRTP send fast path (media/_srtpsend.c).

Everything else is in pyproject.toml. The extension is optional: where it cannot be
compiled, liveclass forwards media through aiortc's own (slower) send path.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("media._srtpsend", ["media/_srtpsend.c"], optional=True),
    ]
)
