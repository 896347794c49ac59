"""Python in the browser (static/src/labs/pyodide.ts) through the scratchpad page, in real
Chromium: Pyodide loads in a Web Worker from our own server (no request leaves our origin),
prints and reads input, reports exceptions with their traceback, imports a second file,
stops an endless loop at the time limit (and the next run works), truncates huge output.
One browser and one page for the module: Python loads once."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from a11ykit import PHONE, axe_available, expect_no_violations, no_horizontal_scroll
from browserkit import Person, launch_browser, log_in, new_person, shot
from playwright.sync_api import Browser, Page, expect

from kits.nodes import Node
from kits.servers import ROOT

VERSION = next((ROOT / "static" / "dist" / "pyodide").iterdir()).name
CORE = [
    "pyodide.mjs",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
]
# Python's start-up in a fresh worker (a cold WebAssembly compile on a loaded CI machine).
LOAD_MS = 90_000


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    axe_available()
    yield from launch_browser()


@pytest.fixture(scope="module")
def requests_seen() -> list[str]:
    return []


@pytest.fixture(scope="module")
def learner(chromium: Browser, sqlite_node: Node, requests_seen: list[str]) -> Iterator[Person]:
    person = new_person(chromium, sqlite_node, "Lea Learner")
    person.context.on("request", lambda request: requests_seen.append(request.url))
    log_in(person, "/scratchpad")
    expect(person.page.get_by_role("heading", name="Python scratchpad", level=1)).to_be_visible()
    expect(person.page.get_by_test_id("run-status")).to_have_text(
        "Python is ready.", timeout=LOAD_MS
    )
    yield person
    person.close()


def run(
    page: Page, code: str, *, stdin: str = "", helper: str | None = None, timeout: int = 30_000
) -> None:
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_label("Input (read by input())").fill(stdin)
    if helper is not None:
        if not page.get_by_label("helper.py", exact=True).is_visible():
            page.get_by_text("A second file: helper.py").click()
        page.get_by_label("helper.py", exact=True).fill(helper)
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_role("button", name="Run")).to_be_enabled(timeout=timeout)


def test_print_and_input(learner: Person) -> None:
    page = learner.page
    run(
        page,
        'name = input("Name? ")\nprint(f"Hello, {name}!")\nprint(input())',
        stdin="Ada\nsecond line\n",
    )
    expect(page.locator("pre.run-stdout")).to_have_text("Name? Hello, Ada!\nsecond line\n")
    expect(page.get_by_test_id("run-status")).to_have_text(re.compile(r"^Finished in \d+ ms\.$"))
    expect(page.locator("pre.run-error")).to_have_count(0)
    shot(page, "scratchpad-hello")
    assert learner.errors == []


def test_an_exception_comes_back_with_its_traceback(learner: Person) -> None:
    page = learner.page
    run(
        page,
        "import sys\nprint('before')\nprint('warn', file=sys.stderr)\n"
        "def f():\n    return 1 / 0\nf()\n",
    )
    expect(page.locator("pre.run-stdout")).to_have_text("before\n")
    expect(page.locator("pre.run-stderr")).to_have_text("warn\n")
    error = page.locator("pre.run-error")
    expect(error).to_contain_text("Traceback (most recent call last):")
    expect(error).to_contain_text('File "main.py", line 6, in <module>')
    expect(error).to_contain_text('File "main.py", line 5, in f')
    expect(error).to_contain_text("ZeroDivisionError: division by zero")
    assert "_lc_run" not in error.inner_text()
    expect(page.get_by_test_id("run-status")).to_have_text(re.compile(r"^Finished with an error"))
    run(page, "print('unclosed'\n")
    expect(page.locator("pre.run-error")).to_contain_text("SyntaxError")


def test_a_second_file_is_importable_and_reloaded_between_runs(learner: Person) -> None:
    page = learner.page
    run(
        page, "import helper\nprint(helper.double(21))", helper="def double(x):\n    return 2 * x\n"
    )
    expect(page.locator("pre.run-stdout")).to_have_text("42\n")
    run(
        page, "import helper\nprint(helper.double(21))", helper="def double(x):\n    return 3 * x\n"
    )
    expect(page.locator("pre.run-stdout")).to_have_text("63\n")
    run(page, "import helper\nhelper.boom()", helper="def boom():\n    raise ValueError('no')\n")
    expect(page.locator("pre.run-error")).to_contain_text('File "helper.py", line 2, in boom')


def test_huge_output_is_truncated(learner: Person) -> None:
    page = learner.page
    run(page, "for i in range(200_000):\n    print('line', i)\nprint('the end')")
    out = page.locator("pre.run-stdout")
    expect(out).to_contain_text("[output truncated]")
    text = out.inner_text()
    assert text.endswith("\n[output truncated]") and "the end" not in text
    assert len(text) == 64 * 1024 + len("\n[output truncated]")


def test_an_endless_loop_is_stopped_and_the_next_run_works(learner: Person) -> None:
    page = learner.page
    run(page, "print('started')\nwhile True:\n    pass\n", timeout=LOAD_MS)
    expect(page.locator("pre.run-error")).to_have_text(
        "Time limit exceeded: the program was stopped after 5 s."
    )
    expect(page.locator("pre.run-stdout")).to_have_text("started\n")
    # A fresh worker runs the next program (its module state is new).
    run(page, "import sys\nprint('again', 'helper' in sys.modules)", timeout=LOAD_MS)
    expect(page.locator("pre.run-stdout")).to_have_text("again False\n")
    # Stop ends a run at once.
    page.get_by_label("Code", exact=True).fill("while True:\n    pass\n")
    page.get_by_role("button", name="Run").click()
    page.get_by_role("button", name="Stop").click()
    expect(page.locator("pre.run-error")).to_have_text("Cancelled.")
    run(page, "print(6 * 7)", timeout=LOAD_MS)
    expect(page.locator("pre.run-stdout")).to_have_text("42\n")


def test_the_page_is_accessible_at_desktop_and_phone_width(learner: Person) -> None:
    page = learner.page
    run(page, "print('hi')\n1/0")
    expect_no_violations(page, "scratchpad with output and an error")
    page.set_viewport_size(PHONE)
    try:
        expect_no_violations(page, "scratchpad on a phone")
        assert no_horizontal_scroll(page)
        shot(page, "scratchpad-phone")
    finally:
        page.set_viewport_size({"width": 1280, "height": 800})
    # Keyboard: Ctrl+Enter in the code runs it.
    code = page.get_by_label("Code", exact=True)
    code.fill("print('from the keyboard')")
    code.press("Control+Enter")
    expect(page.locator("pre.run-stdout")).to_have_text("from the keyboard\n")


def test_no_request_leaves_our_origin(
    learner: Person, sqlite_node: Node, requests_seen: list[str]
) -> None:
    assert requests_seen
    foreign = [url for url in requests_seen if not url.startswith(sqlite_node.url + "/")]
    assert foreign == []
    paths = {httpx.URL(url).path for url in requests_seen}
    assert {f"/pyodide/{VERSION}/{name}" for name in CORE if name != "pyodide.mjs"} <= paths, paths
    assert any(p.startswith("/assets/pyodide-worker-") for p in paths), paths


def test_pyodide_files_are_served_with_long_caching(sqlite_node: Node) -> None:
    with httpx.Client(base_url=sqlite_node.url) as client:
        wasm = client.get(f"/pyodide/{VERSION}/pyodide.asm.wasm")
        assert wasm.status_code == 200
        assert wasm.headers["content-type"] == "application/wasm"
        assert "immutable" in wasm.headers["cache-control"]
        module = client.get(f"/pyodide/{VERSION}/pyodide.mjs")
        assert module.headers["content-type"].startswith("text/javascript")
        page = client.get("/scratchpad")
        assert "wasm-unsafe-eval" not in page.headers["content-security-policy"]
        worker = next((ROOT / "static" / "dist" / "assets").glob("pyodide-worker-*.js")).name
        policy = client.get(f"/assets/{worker}").headers["content-security-policy"]
        assert "connect-src 'self'" in policy and "'wasm-unsafe-eval'" in policy
        for path in [
            f"/pyodide/{VERSION}/..%2F..%2Findex.html",
            "/pyodide/0.0.0/pyodide.mjs",
            f"/pyodide/{VERSION}/nothing",
        ]:
            response = client.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"] == "application/problem+json"
