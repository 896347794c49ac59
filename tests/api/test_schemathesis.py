"""Property-based fuzzing of every REST operation of a real node with schemathesis.

Runs the schemathesis CLI (tests/kits/fuzzing.py) against the node's own ``/openapi.json``
as an admin through an API key holding every admin scope (without credentials:
test_schemathesis_anonymous.py, a module of its own so the two runs share out over the
workers). Any 5xx, or a success response that does not match the documented schema,
fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from kits import fuzzing
from kits.nodes import Node
from lms.permissions import ROLE_PERMISSIONS, Role

pytestmark = pytest.mark.slow  # among the costliest modules: the workers start with them


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Node]:
    """A node for this module; server errors are logged at the default warning level."""
    yield from fuzzing.fuzz_node(request, tmp_path_factory)


def admin_api_key(node: Node) -> str:
    """An API key of an admin, with every scope the admin role holds."""
    scopes = sorted(p.value for p in ROLE_PERMISSIONS[Role.ADMIN])
    with node.client(node.admin_token()) as client:
        created = client.post("/api/v1/api-keys", json={"name": "fuzzing", "scopes": scopes})
    assert created.status_code == 201, created.text
    assert sorted(created.json()["scopes"]) == scopes
    return str(created.json()["key"])


ROLE_BOUND: Final = frozenset(
    {
        "GET /api/v1/rooms/{room_id}/recordings/{recording_id}/files/{file_id}",
        "GET /api/v1/quizzes/{quiz_id}/me",
        "POST /api/v1/quizzes/{quiz_id}/attempts",
        "PUT /api/v1/attempts/{attempt_id}/answers",
        "POST /api/v1/attempts/{attempt_id}/submit",
        "POST /api/v1/attempts/{attempt_id}/questions/{question_id}/run",
        "POST /api/v1/assignments/{assignment_id}/submissions",
        "GET /api/v1/assignments/{assignment_id}/submissions/mine",
        "GET /api/v1/courses/{course_id}/gradebook/mine",
        "POST /api/v1/labs/{lab_id}/workspace",
        "POST /api/v1/labs/{lab_id}/check",
        "POST /api/v1/labs/{lab_id}/activity",
        "POST /api/v1/labs/{lab_id}/help",
        "GET /api/v1/labs/{lab_id}/help/mine",
    }
)
"""Operations refused to an admin by design: a room's recordings only to its hosts (the
stateful phase may have made the key's own user a participant of every room it created, and
a room role outranks the admin's default); taking quizzes, handing in assignments and one's
own grades, and working in a lab (a workspace, checks, help) only to a course's students
(an admin is never one)."""


def refused_throughout(report: str) -> list[str]:
    """The operations the report says answered only 401/403, less the role-bound ones."""
    _, found, rest = report.partition("Authentication failed")
    if not found:
        return []
    listed = re.findall(r"^\s+- ([A-Z]+ /\S+)$", rest.split("💡", 1)[0], re.MULTILINE)
    if not listed:
        return ["(not understood) " + rest[:200]]
    return [operation for operation in listed if operation not in ROLE_BOUND]


# Every operation gets examples: with the assessment, workshop, lab and payment routes the
# run outgrew the suite's 300 s per-test guard on a loaded machine; schemathesis itself
# stops at fuzzing.RUN_SECONDS.
@pytest.mark.timeout(fuzzing.RUN_SECONDS + 60)
def test_no_server_errors_as_an_admin_api_key(fuzz_node: Node, tmp_path: Path) -> None:
    key = admin_api_key(fuzz_node)
    phases = fuzzing.POSTGRES_PHASES if fuzz_node.backend == "postgres" else fuzzing.ALL_PHASES
    auth = f"Authorization: Bearer {key}"
    report = fuzzing.schemathesis(fuzz_node, tmp_path, "--header", auth, phases=phases)
    if "coverage" in phases:  # its malformed ids reach every operation past authorization
        assert not refused_throughout(report), report
    # The fuzzer ran authenticated throughout: the key outlived everything it tried.
    with fuzz_node.client(key) as client:
        me = client.get("/api/v1/users/me")
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "admin"
