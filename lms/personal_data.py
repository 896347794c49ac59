"""The app's personal-data registry: every domain's part of export and erasure.

Each domain's ``personal_data.register(registry)`` adds its section when the app is built;
the registry belongs to that app (``PersonalDataDep``), so two apps never share sections.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import User

Exporter = Callable[[AsyncSession, User], Awaitable[Any]]
Eraser = Callable[[AsyncSession, User], Awaitable[None]]


class PersonalData:
    """Exporters by section and erasers, in the order the domains registered them."""

    def __init__(self) -> None:
        self.exporters: dict[str, Exporter] = {}
        self.erasers: dict[str, Eraser] = {}

    def contributes(self, section: str, *, export: Exporter, erase: Eraser | None = None) -> None:
        """Register a domain's part of the export (under ``section``) and of erasure."""
        self.exporters[section] = export
        if erase is not None:
            self.erasers[section] = erase
