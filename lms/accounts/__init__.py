"""Accounts: registration, login, tokens, profile, API keys."""
