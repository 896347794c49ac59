"""The webhooks domain's refusals; each is a REST error (lms.errors), mapped by
``error_map.PROBLEMS`` through its base class."""

from __future__ import annotations

from lms.errors import Conflict, InvalidInput, NotFound


class UnsafeUrl(InvalidInput):
    """A receiver's URL we will not call: not http(s), plain http where https is required,
    credentials in it, a host that does not resolve or resolves to a refused address."""


class UnknownEventTypes(InvalidInput):
    """An endpoint names event types the catalogue does not declare."""


class EndpointNotFound(NotFound):
    """No webhook endpoint with that id."""


class DeliveryNotFound(NotFound):
    """No delivery with that id for that endpoint."""


class DeliveryConflict(Conflict):
    """The delivery or its endpoint is not in a state that allows this."""
