"""Durable jobs and domain events, on SQLite and PostgreSQL, in our own tables.

- ``jobs.types``: declare a ``JobType`` (handler, attempts, timeout, backoff) or a
  ``Periodic`` job; handlers get a ``JobContext`` (args, sessions, progress, cancellation).
- ``jobs.queue.enqueue``: add a job inside the caller's transaction.
- ``jobs.events``: declare an ``EventType`` with its payload model, ``emit`` it inside the
  caller's transaction (the outbox), subscribe ``Consumer``s in a ``Catalogue``.
- ``jobs.dispatcher``: outbox -> one delivery job per consumer, in order per aggregate.
- ``jobs.worker`` / ``jobs.store``: claiming with leases (``SKIP LOCKED`` on PostgreSQL),
  retries with backoff and jitter, timeouts, dead letters, periodic runs, cancellation.
- ``jobs.runtime``: all of it as one part of a process (``liveclass serve`` or
  ``liveclass worker``); ``jobs.admin``: the operations behind the admin REST API.

This package knows no domain: domains declare their jobs and events, the node lists them.
See docs/operations.md ("Background jobs and domain events") and docs/events.md.
"""
