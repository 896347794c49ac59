"""The node's payment provider, built from the settings (``LIVECLASS_PAYMENTS_PROVIDER``)."""

from __future__ import annotations

import importlib

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lms.payments.offline import OfflineProvider
from lms.payments.offline_wire import derived_secret
from lms.payments.provider import PaymentProvider, split_secrets
from settings import Settings


def offline_secrets(settings: Settings) -> list[str]:
    """The offline provider's webhook secrets: configured, or derived from the secret key."""
    return split_secrets(settings.payments_webhook_secrets) or [derived_secret(settings.secret_key)]


def build_provider(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> PaymentProvider:
    """The configured provider: the offline one, or Stripe Checkout."""
    if settings.payments_provider == "stripe":
        module = importlib.import_module("lms.payments.stripe_provider")
        provider: PaymentProvider = module.StripeProvider(
            api_key=settings.stripe_api_key,
            webhook_secrets=split_secrets(settings.stripe_webhook_secrets),
            api_base=settings.stripe_api_base or None,
            tolerance_seconds=settings.payments_webhook_tolerance_seconds,
        )
        return provider
    return OfflineProvider(
        sessions,
        offline_secrets(settings),
        tolerance_seconds=settings.payments_webhook_tolerance_seconds,
    )
