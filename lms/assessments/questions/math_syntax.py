"""Reading a typed math expression before SymPy sees it: a whitelist, not a sandbox.

``parse_expr`` ends in ``eval``, so nothing a student types reaches it as typed. The text
is tokenised here (numbers, names, ``+ - * / ^ ( ) ,``), every name must be a declared
variable, a whitelisted function followed by ``(``, or a constant; implicit products
(``2x``, ``x(y+1)``, ``xy`` for declared ``x`` and ``y``) are made explicit; and the result
is rewritten with our own names (variables become ``v0``, ``v1``...), so the string SymPy
parses holds no name, attribute, string, bracket or keyword of the student's. Length,
token count, digits per number and nesting depth are capped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_EXPRESSION = 300
MAX_TOKENS = 200
MAX_DIGITS = 30
MAX_DEPTH = 20
MAX_VARIABLES = 10

FUNCTIONS: dict[str, str] = {
    **{
        name: name
        for name in (
            "sin", "cos", "tan", "sec", "csc", "cot", "asin", "acos", "atan",
            "sinh", "cosh", "tanh", "exp", "log", "sqrt",
        )
    },
    "ln": "log",
    "abs": "Abs",
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
}  # fmt: skip
"""Names a student may call, and the SymPy function each stands for."""
CONSTANTS: dict[str, str] = {"pi": "pi", "e": "E"}
"""Constants by the name a student types (``e`` only when no variable is called e)."""
RESERVED = frozenset(FUNCTIONS) | frozenset(CONSTANTS)

_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3}(?![A-Za-z0-9]))?)"
    r"|(?P<name>[A-Za-z]+)|(?P<op>\*\*|[-+*/^(),]))"
)
_FOLD = str.maketrans({"\u2212": "-", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*", "\u00f7": "/"})


class MathSyntaxError(ValueError):
    """The text is not an expression we accept; the message says why, for the student."""


@dataclass(frozen=True)
class Expression:
    """A checked expression: ``source`` is safe for ``parse_expr`` over ``v0..vN``."""

    source: str


def _names(name: str, variables: list[str]) -> list[str]:
    """``name`` as one or more of our names: a variable, a function, a constant, or a run
    of one-letter variables written together (``xy``)."""
    if name in variables:
        return [f"v{variables.index(name)}"]
    if name in FUNCTIONS:
        return [FUNCTIONS[name]]
    if name in CONSTANTS:
        return [CONSTANTS[name]]
    if all(char in variables for char in name):
        return [f"v{variables.index(char)}" for char in name]
    raise MathSyntaxError(f"Unknown name {name!r}.")


def read(text: str, variables: list[str]) -> Expression:
    """``text`` checked and rewritten (see the module docstring); ``MathSyntaxError`` when
    it is not an expression over ``variables``."""
    folded = unicodedata.normalize("NFKC", text).translate(_FOLD).strip()
    if not folded:
        raise MathSyntaxError("No expression.")
    if len(folded) > MAX_EXPRESSION:
        raise MathSyntaxError(f"The expression is longer than {MAX_EXPRESSION} characters.")
    writer = _Writer()
    position = 0
    while position < len(folded):
        match = _TOKEN.match(folded, position)
        if match is None:
            rest = folded[position:].strip()
            if not rest:
                break
            raise MathSyntaxError(f"Unexpected {rest[0]!r}.")
        position = match.end()
        if match["number"]:
            if len(match["number"]) > MAX_DIGITS:
                raise MathSyntaxError(f"A number has more than {MAX_DIGITS} digits.")
            writer.emit(match["number"], "number")
        elif match["name"]:
            for name in _names(match["name"], variables):
                writer.emit(name, "func" if name in FUNCTIONS.values() else "value")
        else:
            op = "**" if match["op"] == "^" else match["op"]
            writer.emit(op, op if op in "()," else "op")
    return writer.finish()


class _Writer:
    """Appends tokens, making products explicit and refusing what cannot follow what."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.kinds: list[str] = []  # number, value, func, op, (, ), ","
        self.calls: list[bool] = []  # for each open bracket: is it a function's?

    def emit(self, token: str, kind: str) -> None:
        previous = self.kinds[-1] if self.kinds else None
        if previous == "func" and kind != "(":
            raise MathSyntaxError(f"Write {self.out[-1]}(...) with brackets.")
        if kind == "number" and previous == "number":
            raise MathSyntaxError("Two numbers in a row.")
        after_operand = previous in ("number", "value", ")")
        if after_operand and kind in ("number", "value", "func", "("):
            self._append("*", "op")
        binary = kind in (")", ",") or (kind == "op" and token not in "+-")
        if binary and not after_operand:
            raise MathSyntaxError(f"Unexpected {token!r}.")
        if kind == "(":
            self.calls.append(previous == "func")
            if len(self.calls) > MAX_DEPTH:
                raise MathSyntaxError("Too many nested brackets.")
        elif kind == ")":
            if not self.calls:
                raise MathSyntaxError("A closing bracket has no opening one.")
            self.calls.pop()
        elif kind == "," and not (self.calls and self.calls[-1]):
            raise MathSyntaxError("Unexpected ','.")
        self._append(token, kind)

    def _append(self, token: str, kind: str) -> None:
        self.out.append(token)
        self.kinds.append(kind)
        if len(self.out) > MAX_TOKENS:
            raise MathSyntaxError("The expression is too long.")

    def finish(self) -> Expression:
        if self.calls:
            raise MathSyntaxError("A bracket is not closed.")
        if not self.kinds or self.kinds[-1] in ("op", "func", "(", ","):
            raise MathSyntaxError("The expression is incomplete.")
        return Expression(" ".join(self.out))


def check_variables(variables: list[str]) -> None:
    """Refuse variable names a student could not type or that clash with our names."""
    if len(variables) > MAX_VARIABLES:
        raise ValueError(f"at most {MAX_VARIABLES} variables")
    if len(set(variables)) != len(variables):
        raise ValueError("variables must be unique")
    for name in variables:
        if not re.fullmatch(r"[A-Za-z]{1,12}", name):
            raise ValueError(f"a variable is one to twelve letters, not {name!r}")
        if name in RESERVED and name != "e":
            raise ValueError(f"{name!r} is a function or constant name")
