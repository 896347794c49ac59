"""The labs runtime as a route dependency (kept on ``app.state.labs`` by the app factory)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from lms.deps import on_the_loop
from lms.labs.runtime import LabsRuntime


def labs_runtime(request: Request) -> LabsRuntime:
    """The node's labs runtime."""
    runtime: LabsRuntime = request.app.state.labs
    return runtime


LabsDep = Annotated[LabsRuntime, Depends(on_the_loop(labs_runtime))]
