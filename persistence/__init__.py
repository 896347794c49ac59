"""Durable state: engine and sessions, ORM models, migrations."""
