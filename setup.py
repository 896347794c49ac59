"""The one native part: the SFU's SRTP fast paths (media/_srtp.c).

Everything else is in pyproject.toml. The extension is optional: where it cannot be
compiled, liveclass sends and receives media through aiortc's and pylibsrtp's own (slower) paths.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("media._srtp", ["media/_srtp.c"], optional=True),
    ]
)
