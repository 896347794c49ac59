"""The SymPy side of a math check; it runs only in a worker process (``math_guard``).

The expressions arrive rewritten by ``math_syntax.read``: numbers, our function and
constant names and ``v0..vN``; ``parse_expr`` gets only those names and no builtins. Each
is first parsed unevaluated and every numeric exponent bounded (so ``10**10**10`` is never
computed), then parsed again evaluated. Equivalence: a numeric comparison at seeded random
points (sent as a provisional verdict), then ``simplify(a - b) == 0``; a difference at a
point is final, agreement at enough points stands when ``simplify`` cannot prove it.
"""

from __future__ import annotations

import cmath
import contextlib
import random
import resource
import sys
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any, Literal

import sympy  # type: ignore[import-untyped]
from sympy.parsing.sympy_parser import (  # type: ignore[import-untyped]
    parse_expr,
    standard_transformations,
)

from lms.assessments.questions.math_guard import Request, Verdict
from lms.assessments.questions.math_syntax import CONSTANTS, FUNCTIONS

POINTS = 12
"""Random points tried by the numeric check."""
MIN_POINTS = 3
"""Points where both sides must be finite for a numeric verdict."""
PRECISION = 30
"""Significant digits of numeric evaluation."""


class _Refused(Exception):
    """An expression we will not evaluate (a huge exponent)."""


def main() -> None:
    """The worker's entry point: ``argv`` holds the socket's descriptor and the memory cap."""
    serve(Connection(int(sys.argv[2])), int(sys.argv[3]))


def serve(conn: Connection, memory_bytes: int) -> None:
    """Answer requests on ``conn`` until it closes (the worker's loop)."""
    _limit_memory(memory_bytes)
    conn.send(("ready",))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        try:
            for message in check(request):
                conn.send(message)
        except MemoryError:
            conn.send(("final", Verdict("unchecked", "limit", "the check used too much memory")))


def _limit_memory(memory_bytes: int) -> None:
    with contextlib.suppress(ValueError, OSError):  # a lower hard limit is in place
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _names(variables: int) -> dict[str, Any]:
    names: dict[str, Any] = {
        "Integer": sympy.Integer,
        "Float": sympy.Float,
        "Rational": sympy.Rational,
        "Symbol": sympy.Symbol,
        "Add": sympy.Add,
        "Mul": sympy.Mul,
        "Pow": sympy.Pow,
    }
    for name in set(FUNCTIONS.values()) | set(CONSTANTS.values()):
        names[name] = getattr(sympy, name)
    for i in range(variables):
        names[f"v{i}"] = sympy.Symbol(f"v{i}")
    return names


def parse(source: str, variables: int, max_exponent: float) -> Any:
    """``source`` as a SymPy expression; ``_Refused`` for a power past ``max_exponent``."""
    names = _names(variables)
    unevaluated = _parse(source, names, evaluate=False)
    for node in sympy.preorder_traversal(unevaluated):
        if isinstance(node, sympy.Pow) and node.exp.is_number:
            size = abs(complex(node.exp.evalf(15)))
            if not size <= max_exponent:  # also NaN
                raise _Refused(f"an exponent of {node.exp} is too large to check")
    return _parse(source, names, evaluate=True)


def _parse(source: str, names: dict[str, Any], *, evaluate: bool) -> Any:
    return parse_expr(
        source,
        local_dict=dict(names),
        global_dict={"__builtins__": {}, **names},
        transformations=standard_transformations,
        evaluate=evaluate,
    )


def _value(expr: Any, point: dict[Any, Any]) -> complex | None:
    try:
        value = complex(expr.evalf(PRECISION, subs=point))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        return None
    return value if cmath.isfinite(value) else None


def numeric(a: Any, b: Any, request: Request) -> Literal["equivalent", "different"] | None:
    """``different`` when a point tells them apart, ``equivalent`` when at least
    ``MIN_POINTS`` agree, None when too few points give finite values on both sides."""
    rng = random.Random(request.seed)
    symbols = [sympy.Symbol(f"v{i}") for i in range(request.variables)]
    agreed = 0
    for _ in range(POINTS):
        point = {s: sympy.Float(rng.choice((-1, 1)) * rng.uniform(0.3, 3.0)) for s in symbols}
        left, right = _value(a, point), _value(b, point)
        if left is None or right is None:
            continue
        if abs(left - right) > 1e-12 + request.rel_tol * max(abs(left), abs(right)):
            return "different"
        agreed += 1
    return "equivalent" if agreed >= MIN_POINTS else None


def check(request: Request) -> Iterator[tuple[str, Verdict]]:
    """The provisional and final verdicts for ``request`` (see the module docstring)."""
    try:
        expected = parse(request.expected, request.variables, request.max_exponent)
    except Exception as exc:
        yield "final", Verdict("unchecked", "key", f"the answer key does not parse: {exc}")
        return
    try:
        given = parse(request.given, request.variables, request.max_exponent)
    except _Refused as exc:
        yield "final", Verdict("unchecked", "limit", str(exc))
        return
    except Exception:
        yield "final", Verdict("invalid", "syntax", "This expression could not be read.")
        return
    if expected == given:
        yield "final", Verdict("equivalent", "symbolic")
        return
    by_points = numeric(expected, given, request)
    if by_points == "different":
        yield "final", Verdict("different", "numeric")
        return
    if by_points == "equivalent":
        yield "provisional", Verdict("equivalent", "numeric")
    if sympy.simplify(expected - given) == 0:
        yield "final", Verdict("equivalent", "symbolic")
    elif by_points == "equivalent":
        yield "final", Verdict("equivalent", "numeric")
    else:
        yield "final", Verdict("unchecked", "undecided", "could not compare the expressions")
