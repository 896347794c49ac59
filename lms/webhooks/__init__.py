"""Outgoing webhooks: admins register receivers' URLs with the event types they want;
every such event is delivered to them signed per Standard Webhooks, retried over about a
day, then the endpoint is disabled and its owner told (``webhook.endpoint_disabled``).

- ``signing``: secrets (``whsec_…``) and the ``webhook-*`` headers (sans-I/O).
- ``urls``: what a receiver's URL may be and where it resolves (SSRF rules).
- ``delivery``: one HTTP attempt, pinned to the address that was checked.
- ``endpoints``: endpoints and their secrets (rotation, disabling, enabling).
- ``deliveries``: fanning events out, the delivery log, recording each attempt.
- ``events``: the event this domain emits, the consumer fanning events out to endpoints
  and the delivery job; ``register`` adds them to a node's jobs and catalogue.
- ``routes`` / ``schemas``: the admin REST API (``webhooks:manage``).
"""
