"""What ``pip install .`` installs is a whole server: every package, migration and page.

The rest of the suite runs from the checkout, where every top-level package is importable
anyway; a package left out of ``[tool.setuptools.packages.find]`` (``jobs`` once was) would
break only a newcomer's first ``liveclass serve``. Here the wheel is built and the server
imported from it alone, away from the checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tracked_copy(into: Path) -> Path:
    """The checkout's tracked files, as a clean clone has them (no egg-info, no build/:
    setuptools would take stale file lists from those)."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return into


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    source = tracked_copy(tmp_path_factory.mktemp("checkout"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        timeout=600,
    )
    (built,) = out.glob("liveclass-*.whl")
    return built


def test_the_wheel_holds_every_package_of_the_checkout(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    packages = sorted(p.parent.name for p in ROOT.glob("*/__init__.py"))
    assert packages, "no packages found in the checkout"
    missing = [p for p in packages if f"{p}/__init__.py" not in names]
    assert not missing, f"packages left out of the wheel: {missing}"
    migrations = [p.name for p in (ROOT / "persistence/migrations/versions").glob("0*.py")]
    assert all(f"persistence/migrations/versions/{m}" in names for m in migrations)
    assert "static/dist/index.html" in names


def test_the_server_runs_from_the_wheel_alone(wheel: Path, tmp_path: Path) -> None:
    """Unpacked away from the checkout, with the checkout off the path: the command line
    starts and knows its commands (an import missing from the wheel fails here)."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import sys; sys.path[:0] = [sys.argv[1]]; "
        "import server, node, cli; "
        "assert node.__file__.startswith(sys.argv[1]), node.__file__; "
        "sys.argv = ['liveclass', '--help']; server.main()"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", code, str(site)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "serve" in done.stdout
