"""Request and response bodies of the accounts API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
RoleName = Literal["admin", "instructor", "student", "finance"]


class Registration(BaseModel):
    """Self-registration; the account gets the student role."""

    model_config = ConfigDict(extra="forbid")
    email: EmailStr = Field(max_length=320)
    password: Password
    name: Name


class UserOut(BaseModel):
    """A user as its owner and admins see it."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    email: str
    name: str
    role: RoleName
    is_active: bool
    created_at: datetime
    email_verified_at: datetime | None = Field(
        default=None, description="When the address was confirmed (null: not yet)."
    )


class TokenPair(BaseModel):
    """The OAuth2 token response (RFC 6749 section 5.1) plus our refresh token."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class RefreshRequest(BaseModel):
    """Exchange a refresh token for a new pair; the old one stops working."""

    model_config = ConfigDict(extra="forbid")
    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]


class LogoutRequest(BaseModel):
    """End this session (its refresh token family) or every session of the account."""

    model_config = ConfigDict(extra="forbid")
    refresh_token: Annotated[str | None, Field(max_length=512)] = None
    everywhere: bool = False


class ProfileUpdate(BaseModel):
    """Change one's name, or email (which needs the current password)."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    email: Annotated[EmailStr | None, Field(max_length=320)] = None
    current_password: Password | None = None


class PasswordChange(BaseModel):
    """Change one's password; every other session is signed out."""

    model_config = ConfigDict(extra="forbid")
    current_password: Password
    new_password: Password


class AccountDeletion(BaseModel):
    """Erase one's account; the password confirms it is really the owner."""

    model_config = ConfigDict(extra="forbid")
    password: Password


class UserAdminUpdate(BaseModel):
    """What an admin may change on any account."""

    model_config = ConfigDict(extra="forbid")
    role: RoleName | None = None
    is_active: bool | None = None


class UserPage(BaseModel):
    """One page of users."""

    items: list[UserOut]
    total: int
    limit: int
    offset: int


class ApiKeyCreate(BaseModel):
    """A new integration key; its scopes must be permissions the creator holds."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    scopes: Annotated[
        list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=32)
    ]
    expires_in_days: Annotated[int | None, Field(ge=1, le=3650)] = None


class ApiKeyOut(BaseModel):
    """An API key's metadata; the secret itself is shown only once, at creation."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    """The response to creating a key: metadata plus the key, never shown again."""

    key: str


class EmailVerification(BaseModel):
    """The token of an address verification e-mail's link."""

    model_config = ConfigDict(extra="forbid")
    token: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class VerifiedEmail(BaseModel):
    """The address now confirmed."""

    email: str
    email_verified_at: datetime


class PasswordResetRequest(BaseModel):
    """Ask for a password reset link for an address."""

    model_config = ConfigDict(extra="forbid")
    email: EmailStr = Field(max_length=320)


class PasswordResetConfirm(BaseModel):
    """Choose a new password with a reset link's token."""

    model_config = ConfigDict(extra="forbid")
    token: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    new_password: Password


class Accepted(BaseModel):
    """The request was taken; what happens next does not depend on who asked."""

    detail: str
