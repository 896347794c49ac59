"""Roles and permissions, declared once, and the one dependency that enforces them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from lms.audit.service import record_denial
from lms.auth import Principal, authenticate
from lms.deps import ReadSessionDep, SessionDep
from lms.errors import Forbidden, Unauthorized
from ops.guards import guard


class Role(StrEnum):
    """Platform roles. Self-registration gives ``student``; admins grant the others."""

    ADMIN = "admin"
    INSTRUCTOR = "instructor"
    STUDENT = "student"
    FINANCE = "finance"  # payments staff: orders, refunds, coupons, reports


class Permission(StrEnum):
    """Everything a route can require. API-key scopes are drawn from this list."""

    PROFILE_READ = "profile:read"
    PROFILE_WRITE = "profile:write"
    API_KEYS_MANAGE = "api_keys:manage"
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    AUDIT_READ = "audit:read"
    ROOMS_READ = "rooms:read"
    ROOMS_MANAGE = "rooms:manage"
    ROOMS_CREATE = "rooms:create"
    COURSES_READ = "courses:read"
    COURSES_MANAGE = "courses:manage"
    COURSES_CREATE = "courses:create"
    JOBS_MANAGE = "jobs:manage"
    WEBHOOKS_MANAGE = "webhooks:manage"
    PAYMENTS_MANAGE = "payments:manage"  # the catalogue: products, prices, coupons
    PAYMENTS_READ = "payments:read"  # every order, reports, reconciliation
    PAYMENTS_REFUND = "payments:refund"


# Room-level rules (host, co-host, ...) decide the rest inside the rooms routes.
_EVERYONE = frozenset(
    {
        Permission.PROFILE_READ,
        Permission.PROFILE_WRITE,
        Permission.ROOMS_READ,
        Permission.ROOMS_MANAGE,
        Permission.COURSES_READ,
        Permission.COURSES_MANAGE,
    }
)
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.STUDENT: _EVERYONE,
    Role.INSTRUCTOR: _EVERYONE
    | {Permission.API_KEYS_MANAGE, Permission.ROOMS_CREATE, Permission.COURSES_CREATE},
    Role.FINANCE: _EVERYONE
    | {Permission.PAYMENTS_MANAGE, Permission.PAYMENTS_READ, Permission.PAYMENTS_REFUND},
    Role.ADMIN: frozenset(Permission),
}


def permissions_of(role: str) -> frozenset[Permission]:
    """The permissions a platform role holds (none for an unknown role)."""
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()


async def _admit(
    request: Request, session: AsyncSession, needed: tuple[Permission, ...]
) -> Principal:
    principal = await authenticate(request, session)
    if principal is None:
        raise Unauthorized("Sign in, or send a bearer token.")
    granted = permissions_of(principal.role)
    if principal.scopes is not None:
        granted = granted & principal.scopes
    if missing := [p.value for p in needed if p not in granted]:
        await record_denial(session, request, principal, missing)
        raise Forbidden("You do not have permission to do this.", missing=missing)
    request.state.principal = principal
    return principal


async def admit(request: Request, session: AsyncSession, *needed: Permission) -> Principal:
    """What ``require(*needed)`` does, for a route that authenticates in its body."""
    return await _admit(request, session, needed)


def require(*needed: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates the caller and checks it holds ``needed``."""

    @guard
    async def check(request: Request, session: SessionDep) -> Principal:
        return await _admit(request, session, needed)

    check.__name__ = "require_" + "_".join(p.name.lower() for p in needed)
    return check


def require_reading(*needed: Permission) -> Callable[..., Awaitable[Principal]]:
    """``require`` through a reader session (``ReadSessionDep``), for a write route that
    writes in a short transaction of its own: authenticating takes no write lock."""

    @guard
    async def check(request: Request, session: ReadSessionDep) -> Principal:
        return await _admit(request, session, needed)

    check.__name__ = "require_reading_" + "_".join(p.name.lower() for p in needed)
    return check


def authenticated() -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting any signed-in caller (no particular permission)."""
    return require()


CurrentUser = Annotated[Principal, Depends(require(Permission.PROFILE_READ))]
