"""ORM models, one module per domain; importing this package registers them all."""

from persistence.models.accounts import ApiKey, RefreshToken, User
from persistence.models.audit import AuditEvent
from persistence.models.base import Base

__all__ = ["ApiKey", "AuditEvent", "Base", "RefreshToken", "User"]
