"""The operations guide documents every setting, and the README keeps its two commands."""

from __future__ import annotations

import re

from kits.servers import ROOT
from settings import Settings


def test_every_setting_is_documented() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text()
    missing = [name for name in Settings.model_fields if f"`LIVECLASS_{name.upper()}`" not in guide]
    assert not missing, f"undocumented settings: {missing}"


def test_readme_shows_the_two_commands_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.S)
    assert blocks[0].strip() == "pip install . && liveclass serve"
    assert blocks[1].strip() == "./scripts/test"
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text()
