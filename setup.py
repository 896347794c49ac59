"""The one native part: the SFU's SRTP fast paths (media/fastpath/_srtp.c).

Everything else is in pyproject.toml. The extension is optional: where it cannot be
compiled, liveclass sends and receives media through aiortc's and pylibsrtp's own (slower)
paths, and says so at start-up (``media.fastpath.install``) and on /metrics
(``liveclass_media{kind="native_extension"}`` 0).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("media.fastpath._srtp", ["media/fastpath/_srtp.c"], optional=True),
    ]
)
