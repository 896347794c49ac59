"""What else ends when a user's sessions are revoked: the app's hooks.

The rooms package registers one at start-up (closing the user's live connections on every
node once the revocation commits). The hooks belong to the app (``RevokedHooksDep``), not
to this module, so two apps in one process each tell only their own node.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import User

RevokedHook = Callable[[AsyncSession, User], None]
"""Runs inside the transaction that revokes a user's sessions (to act once it commits)."""


class RevokedHooks:
    """Named hooks, run in registration order for every revocation."""

    def __init__(self) -> None:
        self._hooks: dict[str, RevokedHook] = {}

    def on_revoked(self, name: str, hook: RevokedHook) -> None:
        """Register, at start-up, what else ends when a user's sessions are revoked."""
        self._hooks[name] = hook

    def notify(self, session: AsyncSession, user: User) -> None:
        """Tell every hook that ``user``'s sessions end with this transaction."""
        for hook in list(self._hooks.values()):
            hook(session, user)
