"""Account rules shared by the accounts routes: normalising, creating and checking users."""

from __future__ import annotations

import uuid

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lms.accounts.passwords import hash_password, verify_password
from lms.accounts.throttle import LOGIN_ACTION, LoginThrottled, check_login_allowed
from lms.audit.service import audit, audit_now
from lms.deps import client_ip
from lms.errors import Conflict, InvalidCredentials, InvalidInput, NotFound
from persistence.models import User
from settings import Settings


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively; store them lowercased and trimmed."""
    return email.strip().lower()


def check_password_policy(
    password: str, *, settings: Settings, email: str = "", field: str = "body.password"
) -> None:
    """Reject passwords that are too short or merely the email address."""
    if len(password) < settings.password_min_length:
        raise InvalidInput(
            f"The password must have at least {settings.password_min_length} characters.",
            errors=[{"field": field, "message": "too short"}],
        )
    if email and password.strip().lower() == email:
        raise InvalidInput(
            "The password must not be the email address.",
            errors=[{"field": field, "message": "same as email"}],
        )


async def find_by_email(session: AsyncSession, email: str) -> User | None:
    """The account with this (normalised) email, if any."""
    query = select(User).where(User.email == normalise_email(email))
    return (await session.execute(query)).scalar_one_or_none()


async def create_user(
    session: AsyncSession, *, email: str, password: str, name: str, role: str, settings: Settings
) -> User:
    """Add a new account to ``session`` and flush it; 409 if the email is taken."""
    email = normalise_email(email)
    check_password_policy(password, settings=settings, email=email)
    # Hash before touching the database: on SQLite a writer holds the lock until commit.
    password_hash = await hash_password(password)
    if await find_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists.")
    user = User(email=email, name=name, password_hash=password_hash, role=role)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict("An account with this email already exists.") from exc
    return user


async def login(
    session: AsyncSession, request: Request, *, email: str, password: str, settings: Settings
) -> User:
    """Check credentials under the throttle; audit success and failure alike."""
    email = normalise_email(email)
    try:
        await check_login_allowed(session, email=email, ip=client_ip(request), settings=settings)
    except LoginThrottled as throttled:
        await audit_now(
            session,
            request,
            LOGIN_ACTION,
            target_type="user",
            target_id=email,
            outcome="throttled",
            **throttled.audit_detail(),
        )
        raise
    user = await find_by_email(session, email)
    await session.commit()  # end the read: no lock held during the deliberately slow check
    valid = await verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        await audit_now(
            session,
            request,
            LOGIN_ACTION,
            actor_id=user.id if user else None,
            target_type="user",
            target_id=email,
            outcome="failure",
        )
        raise InvalidCredentials("Wrong email or password.")
    audit(session, request, LOGIN_ACTION, actor_id=user.id, target_type="user", target_id=email)
    return user


async def count_users(session: AsyncSession) -> int:
    """How many accounts exist."""
    return int((await session.execute(select(func.count()).select_from(User))).scalar_one())


async def find_active_user(
    session: AsyncSession, *, user_id: uuid.UUID | None, email: str | None
) -> User:
    """The active account named by exactly one of ``user_id`` and ``email``; 422 or 404."""
    if (user_id is None) == (email is None):
        raise InvalidInput("Give exactly one of user_id and email.")
    user = await session.get(User, user_id) if user_id else await find_by_email(session, str(email))
    if user is None or not user.is_active:
        raise NotFound("No such user.")
    return user
