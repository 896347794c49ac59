"""What a live quiz needs to know about questions, as a port the platform fills in.

The room channel runs quizzes but does not know question types: ``lms/assessments`` does
(its pure question core), and ``rooms/`` may not import it (dependencies point from the
platform to the classroom). The node installs the platform's rules at start-up
(``install``); until then, and in a node built without them, launching a quiz is refused.
Every function here is pure and synchronous: the handlers that call them run in the room's
command path, so the rules offer only question types graded without I/O or a worker.
"""

from __future__ import annotations

from typing import Any, Protocol

from rooms.errors import Rejected


class QuizRules(Protocol):
    """Questions as a live quiz sees them (``lms/assessments/live.py`` implements it)."""

    def check(self, definition: object) -> dict[str, Any]:
        """The author's definition, validated and normalised; ``Rejected`` says why not."""
        ...

    def view(self, definition: dict[str, Any], seed: str) -> dict[str, Any]:
        """What students see for ``seed``: no key, no feedback."""
        ...

    def receive(self, definition: dict[str, Any], seed: str, data: object) -> dict[str, Any]:
        """A student's answer as the browser sends it, checked, in the author's ids."""
        ...

    def shown(
        self, definition: dict[str, Any], seed: str, response: dict[str, Any]
    ) -> dict[str, Any]:
        """A stored answer (author's ids) as its student sees it again (view tokens)."""
        ...

    def grade(self, definition: dict[str, Any], response: dict[str, Any]) -> float:
        """The answer's credit, 0 to 1."""
        ...

    def picks(self, definition: dict[str, Any], response: dict[str, Any]) -> list[str]:
        """The author's choice ids an answer picked, for the hosts' histogram ([] for
        questions without choices)."""
        ...


class _Unavailable:
    """The rules of a node that has none: every quiz is refused."""

    def _refuse(self) -> Rejected:
        return Rejected("quizzes-unavailable", "Live quizzes are not available here.")

    def check(self, definition: object) -> dict[str, Any]:
        raise self._refuse()

    def view(self, definition: dict[str, Any], seed: str) -> dict[str, Any]:
        raise self._refuse()

    def receive(self, definition: dict[str, Any], seed: str, data: object) -> dict[str, Any]:
        raise self._refuse()

    def shown(
        self, definition: dict[str, Any], seed: str, response: dict[str, Any]
    ) -> dict[str, Any]:
        raise self._refuse()

    def grade(self, definition: dict[str, Any], response: dict[str, Any]) -> float:
        raise self._refuse()

    def picks(self, definition: dict[str, Any], response: dict[str, Any]) -> list[str]:
        raise self._refuse()


_installed: list[QuizRules] = [_Unavailable()]


def install(rules: QuizRules) -> None:
    """Use ``rules`` for every live quiz in this process (the node does it at start-up)."""
    _installed[0] = rules


def rules() -> QuizRules:
    """The rules in force."""
    return _installed[0]
