"""How graders name learners: an opaque per-assignment key for everyone, and while the
assignment is anonymous a label "Student N" from a stable per-assignment shuffle.

The key is an HMAC of the assignment and the learner under the server's secret: it tells
nothing about who the learner is, and the same learner has unrelated keys on two
assignments. The shuffle orders learners by that key, so it is stable while the roster is.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid


def learner_key(secret: str, assignment_id: uuid.UUID, user_id: uuid.UUID) -> str:
    """The opaque key graders use for a learner of an assignment (32 hex digits)."""
    message = f"{assignment_id}:{user_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def labels(keys: list[str]) -> dict[str, str]:
    """ "Student 1".."Student N" for the keys, in the order of the keys themselves."""
    return {key: f"Student {n}" for n, key in enumerate(sorted(keys), start=1)}
