"""A local fake of the Stripe HTTP API, for the Stripe adapter's tests (stripe-mock cannot be
installed here). An HTTP server on a free port, in a thread, implementing only what
``lms.payments.stripe_provider`` calls, the way Stripe answers it:

- ``POST /v1/checkout/sessions`` (mode=payment, ``line_items[][price_data]``, expiry between
  30 minutes and 24 hours, a 50 minor-unit minimum), ``GET /v1/checkout/sessions/{id}``,
  ``POST /v1/checkout/sessions/{id}/expire``, ``GET /v1/checkout/sessions`` (newest first,
  ``limit``/``starting_after``/``ending_before`` pages, ``created[gte|gt|lte|lt]``);
- ``GET /v1/payment_intents/{id}``, ``GET /v1/charges`` (paged like the sessions);
- ``POST /v1/refunds`` (``payment_intent`` or ``charge``, ``amount`` defaulting to what is
  left, never more than that);
- ``expand[]`` of ``payment_intent``, ``payment_intent.latest_charge``, ``latest_charge`` and
  the same under ``data.`` on lists.

Requests are form-encoded (``a[b][0]=c``) with ``Authorization: Bearer KEY``; answers are
JSON, errors in Stripe's shape ``{"error": {"type", "code", "message", "param"}}``. An
``Idempotency-Key`` on a POST is honoured like Stripe: kept per API key, the same key and
parameters replay the first answer (with ``Idempotent-Replayed: true``), the same key with other
parameters is a 400 ``idempotency_error``; requests that fail before executing (bad key,
injected failures) store nothing, so a retry goes through.

Test controls, not part of Stripe's API: ``pay(session_id)`` / ``decline(session_id)`` act as
the buyer on the hosted page, ``expire_now(session_id)`` as Stripe's own expiry,
``fail_refund(refund_id)`` as a card network bouncing a refund, ``fail_next``
injects 5xx/429 answers; every change records a Stripe event (``events``), which
``signed(event, secret)`` turns into a raw body and a ``Stripe-Signature`` header made by the
SDK's own ``WebhookSignature.generate_signature_header``.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

API_VERSION = "2026-10-28.endive"
REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}
MIN_AMOUNT = 50
MIN_EXPIRY = 30 * 60
MAX_EXPIRY = 24 * 60 * 60

Obj = dict[str, Any]


class StripeFailure(Exception):
    """An answer in Stripe's error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        store: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: Obj = {"error": {"type": type, "message": message}}
        if code:
            self.body["error"]["code"] = code
        if param:
            self.body["error"]["param"] = param
        self.store = store  # an executed request's error is replayed for its idempotency key


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def parse_form(pairs: list[tuple[str, str]]) -> Obj:
    """``a[b][0][c]=v`` pairs -> nested dicts; a dict whose keys are all digits -> a list;
    ``a[]=v`` appends."""
    root: Obj = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "[]":
                part = str(len(node))
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    parsed: Obj = _listify(root)
    return parsed


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        items = {k: _listify(v) for k, v in value.items()}
        if items and all(k.isdigit() for k in items):
            return [items[k] for k in sorted(items, key=int)]
        return items
    return value


def _int(params: Obj, name: str, *, minimum: int = 0, required: bool = True) -> int | None:
    raw = params.get(name)
    if raw is None:
        if required:
            raise StripeFailure(400, f"Missing required param: {name}.", param=name)
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise StripeFailure(400, f"Invalid integer: {raw}", param=name) from None
    if value < minimum or value > 99_999_999_999:
        raise StripeFailure(400, f"Invalid integer: {raw}", param=name)
    return value


class FakeStripe:
    """The server, its objects and the events they produced."""

    def __init__(self, api_key: str = "sk_test_fake") -> None:
        self.api_key = api_key
        self.sessions: dict[str, Obj] = {}
        self.intents: dict[str, Obj] = {}
        self.charges: dict[str, Obj] = {}
        self.refunds: dict[str, Obj] = {}
        self.events: list[Obj] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) in arrival order
        self._idempotency: dict[tuple[str, str], tuple[str, int, bytes]] = {}
        self._order: dict[str, int] = {}  # object id -> creation sequence (stable sort)
        self._failures: list[int] = []
        self._lock = threading.RLock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle's algorithm the body waits
            # for the client's delayed ACK of the headers (40 ms on Linux per answer, which
            # Stripe's API does not add).
            disable_nagle_algorithm = True

            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_DELETE(self) -> None:
                fake._handle(self, "DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """What the SDK's ``api`` base address is set to."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeStripe:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ test controls

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses (500, 503, 429 ...), before executing."""
        with self._lock:
            self._failures.extend(statuses)

    def pay(self, session_id: str) -> Obj:
        """The buyer pays on the hosted page: a succeeded payment intent and charge."""
        with self._lock:
            cs = self.sessions[session_id]
            if cs["status"] != "open":
                raise ValueError(f"session {session_id} is {cs['status']}")
            now = int(time.time())
            charge_id, pi_id = new_id("ch"), new_id("pi")
            pi_metadata = dict(cs.get("_pi_metadata") or {})
            charge = {
                "id": charge_id,
                "object": "charge",
                "amount": cs["amount_total"],
                "amount_captured": cs["amount_total"],
                "amount_refunded": 0,
                "captured": True,
                "created": now,
                "currency": cs["currency"],
                "livemode": False,
                "metadata": pi_metadata,
                "paid": True,
                "payment_intent": pi_id,
                "refunded": False,
                "status": "succeeded",
            }
            intent = {
                "id": pi_id,
                "object": "payment_intent",
                "amount": cs["amount_total"],
                "amount_received": cs["amount_total"],
                "created": now,
                "currency": cs["currency"],
                "latest_charge": charge_id,
                "livemode": False,
                "metadata": pi_metadata,
                "status": "succeeded",
            }
            self._add(self.charges, charge)
            self._add(self.intents, intent)
            cs.update(status="complete", payment_status="paid", payment_intent=pi_id, url=None)
            self._event("payment_intent.succeeded", intent)
            self._event("charge.succeeded", charge)
            return self._event("checkout.session.completed", cs)

    def decline(self, session_id: str) -> Obj:
        """The card is declined: a failed payment intent; the session stays open."""
        with self._lock:
            cs = self.sessions[session_id]
            pi_id = new_id("pi")
            intent = {
                "id": pi_id,
                "object": "payment_intent",
                "amount": cs["amount_total"],
                "amount_received": 0,
                "created": int(time.time()),
                "currency": cs["currency"],
                "latest_charge": None,
                "livemode": False,
                "metadata": dict(cs.get("_pi_metadata") or {}),
                "status": "requires_payment_method",
                "last_payment_error": {"code": "card_declined", "type": "card_error"},
            }
            self._add(self.intents, intent)
            return self._event("payment_intent.payment_failed", intent)

    def dashboard_refund(self, payment_intent: str, amount: int | None = None) -> Obj:
        """Someone refunds in Stripe's dashboard: a refund (and its two events) that our
        API never asked for."""
        with self._lock:
            params: Obj = {"payment_intent": payment_intent}
            if amount is not None:
                params["amount"] = str(amount)
            return self._create_refund(params)

    def fail_refund(self, refund_id: str, reason: str = "expired_or_canceled_card") -> list[Obj]:
        """A refund Stripe had accepted fails (the card was closed, as a card network can
        report days later): the refund turns ``failed`` with its ``failure_reason``, the
        money is back in the balance (the charge's ``amount_refunded`` drops), and Stripe
        sends ``refund.failed``, ``refund.updated`` and ``charge.refund.updated`` (returned)."""
        with self._lock:
            refund = self.refunds[refund_id]
            if refund["status"] not in ("pending", "succeeded"):
                raise ValueError(f"refund {refund_id} is {refund['status']}")
            previous = {"status": refund["status"]}
            refund.update(status="failed", failure_reason=reason)
            charge = self.charges[refund["charge"]]
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = False
            return [
                self._event("refund.failed", refund),
                self._event("refund.updated", refund, previous),
                self._event("charge.refund.updated", refund, previous),
            ]

    def expire_now(self, session_id: str) -> Obj:
        """Stripe expires the session (its ``expires_at`` passed)."""
        with self._lock:
            cs = self.sessions[session_id]
            cs.update(status="expired", url=None)
            return self._event("checkout.session.expired", cs)

    def signed(
        self, event: Obj, secret: str, *, timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The raw body Stripe would POST and its headers, signed with the SDK's helper."""
        payload = json.dumps(event, indent=2)
        header = stripe.WebhookSignature.generate_signature_header(
            payload, secret, timestamp=timestamp
        )
        return payload.encode(), {
            "stripe-signature": header,
            "content-type": "application/json; charset=utf-8",
        }

    def events_of(self, type_: str) -> list[Obj]:
        with self._lock:
            return [e for e in self.events if e["type"] == type_]

    # ------------------------------------------------------------------ plumbing

    def _add(self, table: dict[str, Obj], obj: Obj) -> None:
        table[obj["id"]] = obj
        self._order[obj["id"]] = len(self._order)

    def _event(self, type_: str, obj: Obj, previous: Obj | None = None) -> Obj:
        data: Obj = {"object": self._public(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        event = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }
        self.events.append(event)
        return event

    @staticmethod
    def _public(obj: Obj) -> Obj:
        public: Obj = json.loads(
            json.dumps({k: v for k, v in obj.items() if not k.startswith("_")})
        )
        return public

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        pairs = parse_qsl(url.query, keep_blank_values=True)
        if method == "POST":
            pairs += parse_qsl(raw.decode(), keep_blank_values=True)
        key = handler.headers.get("idempotency-key")
        auth = handler.headers.get("authorization") or ""
        with self._lock:
            self.requests.append((method, url.path))
            status, body, replayed = self._serve(method, url.path, pairs, key, auth)
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Request-Id", "req_" + secrets.token_hex(8))
        handler.send_header("Stripe-Version", API_VERSION)
        if key:
            handler.send_header("Idempotency-Key", key)
        if replayed:
            handler.send_header("Idempotent-Replayed", "true")
        if status >= 500:
            handler.send_header("Stripe-Should-Retry", "true")
        handler.end_headers()
        with contextlib.suppress(OSError):
            handler.wfile.write(body)

    def _serve(
        self, method: str, path: str, pairs: list[tuple[str, str]], key: str | None, auth: str
    ) -> tuple[int, bytes, bool]:
        try:
            if auth != f"Bearer {self.api_key}":
                shown = auth.removeprefix("Bearer ")[:8] + "****"
                raise StripeFailure(401, f"Invalid API Key provided: {shown}", store=False)
            if self._failures:
                status = self._failures.pop(0)
                kind = "rate_limit" if status == 429 else "api_error"
                raise StripeFailure(status, "Injected failure.", type=kind, store=False)
            fingerprint = json.dumps([method, path, sorted(pairs)])
            if method == "POST" and key:
                stored = self._idempotency.get((self.api_key, key))
                if stored is not None:
                    if stored[0] != fingerprint:
                        raise StripeFailure(
                            400,
                            "Keys for idempotent requests can only be used with the same "
                            f"parameters they were first used with. Try using a key other than "
                            f"'{key}' if you meant to execute a different request.",
                            type="idempotency_error",
                            store=False,
                        )
                    return stored[1], stored[2], True
            try:
                status, body = (
                    200,
                    json.dumps(self._route(method, path, parse_form(pairs))).encode(),
                )
            except StripeFailure as failure:
                if not failure.store:
                    raise
                status, body = failure.status, json.dumps(failure.body).encode()
            if method == "POST" and key:
                self._idempotency[(self.api_key, key)] = (fingerprint, status, body)
            return status, body, False
        except StripeFailure as failure:
            return failure.status, json.dumps(failure.body).encode(), False

    def _route(self, method: str, path: str, params: Obj) -> Obj:
        parts = path.strip("/").split("/")
        expand = params.pop("expand", None) or []
        if isinstance(expand, str):
            expand = [expand]
        if parts[:3] == ["v1", "checkout", "sessions"]:
            if len(parts) == 3 and method == "POST":
                return self._expand(self._create_session(params), expand)
            if len(parts) == 3 and method == "GET":
                return self._list(self.sessions, "/v1/checkout/sessions", params, expand)
            cs = self._get(self.sessions, parts[3] if len(parts) > 3 else "", "checkout.session")
            if len(parts) == 4 and method == "GET":
                return self._expand(cs, expand)
            if len(parts) == 5 and parts[4] == "expire" and method == "POST":
                if cs["status"] != "open":
                    raise StripeFailure(
                        400,
                        'Only Checkout Sessions with a status in ["open"] can be expired.',
                    )
                self.expire_now(cs["id"])
                return self._expand(cs, expand)
        if parts[:2] == ["v1", "payment_intents"] and len(parts) == 3 and method == "GET":
            return self._expand(self._get(self.intents, parts[2], "payment_intent"), expand)
        if parts == ["v1", "charges"] and method == "GET":
            return self._list(self.charges, "/v1/charges", params, expand)
        if parts == ["v1", "refunds"] and method == "POST":
            return self._create_refund(params)
        raise StripeFailure(
            404, f"Unrecognized request URL ({method}: {path}).", code="resource_missing"
        )

    def _get(self, table: dict[str, Obj], object_id: str, kind: str) -> Obj:
        obj = table.get(object_id)
        if obj is None:
            raise StripeFailure(
                404, f"No such {kind}: '{object_id}'", code="resource_missing", param="id"
            )
        return obj

    def _expand(self, obj: Obj, expand: list[str]) -> Obj:
        out = self._public(obj)
        for path in expand:
            head, _, tail = path.partition(".")
            ref = out.get(head)
            if isinstance(ref, str):
                table = {"payment_intent": self.intents, "latest_charge": self.charges}.get(head)
                if table is not None and ref in table:
                    out[head] = self._expand(table[ref], [tail] if tail else [])
        return out

    def _create_session(self, params: Obj) -> Obj:
        if params.get("mode") != "payment":
            raise StripeFailure(400, "Invalid mode: must be one of payment.", param="mode")
        lines = params.get("line_items")
        if not isinstance(lines, list) or not lines:
            raise StripeFailure(400, "Missing required param: line_items.", param="line_items")
        currencies, total = set(), 0
        for i, line in enumerate(lines):
            pd = line.get("price_data") if isinstance(line, dict) else None
            if not isinstance(pd, dict):
                raise StripeFailure(400, "Missing price_data.", param=f"line_items[{i}]")
            currency = str(pd.get("currency") or "")
            if not re.fullmatch(r"[a-z]{3}", currency):
                raise StripeFailure(
                    400, f"Invalid currency: {currency}.", param=f"line_items[{i}][currency]"
                )
            currencies.add(currency)
            if not (pd.get("product_data") or {}).get("name"):
                raise StripeFailure(
                    400, "Missing required param: product_data[name].", param="product_data"
                )
            unit = _int(pd, "unit_amount")
            quantity = _int(line, "quantity", minimum=1)
            assert unit is not None and quantity is not None
            total += unit * quantity
        if len(currencies) != 1:
            raise StripeFailure(400, "All line items must use the same currency.")
        if total < MIN_AMOUNT:
            raise StripeFailure(
                400,
                "The Checkout Session's total amount due must add up to at least 50.",
                code="amount_too_small",
            )
        if not params.get("success_url"):
            raise StripeFailure(400, "Missing required param: success_url.", param="success_url")
        now = int(time.time())
        expires_at = _int(params, "expires_at", required=False) or now + MAX_EXPIRY
        if not now + MIN_EXPIRY - 5 <= expires_at <= now + MAX_EXPIRY:
            raise StripeFailure(
                400,
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                "Checkout Session creation.",
                param="expires_at",
            )
        cs_id = "cs_test_" + secrets.token_hex(24)
        pi_data = params.get("payment_intent_data") or {}
        session = {
            "id": cs_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": now,
            "currency": currencies.pop(),
            "customer_email": params.get("customer_email"),
            "expires_at": expires_at,
            "livemode": False,
            "metadata": params.get("metadata") or {},
            "mode": "payment",
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params.get("success_url"),
            "url": f"{self.url}/c/pay/{cs_id}",
            "_pi_metadata": pi_data.get("metadata") if isinstance(pi_data, dict) else None,
        }
        self._add(self.sessions, session)
        return session

    def _create_refund(self, params: Obj) -> Obj:
        if params.get("payment_intent"):
            intent = self._get(self.intents, str(params["payment_intent"]), "payment_intent")
            charge_id = intent.get("latest_charge")
            if not charge_id or intent["status"] != "succeeded":
                raise StripeFailure(
                    400,
                    "This PaymentIntent does not have a successful charge to refund.",
                    param="payment_intent",
                )
            charge = self.charges[charge_id]
        elif params.get("charge"):
            charge = self._get(self.charges, str(params["charge"]), "charge")
        else:
            raise StripeFailure(400, "Must provide either `payment_intent` or `charge`.")
        left = charge["amount"] - charge["amount_refunded"]
        if left == 0:
            raise StripeFailure(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = _int(params, "amount", minimum=1, required=False)
        amount = left if amount is None else amount
        if amount > left:
            raise StripeFailure(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                code="amount_too_large",
                param="amount",
            )
        reason = params.get("reason")
        if reason is not None and reason not in REFUND_REASONS:
            raise StripeFailure(
                400, f"Invalid reason: must be one of {sorted(REFUND_REASONS)}", param="reason"
            )
        refund = {
            "id": new_id("re"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "created": int(time.time()),
            "currency": charge["currency"],
            "metadata": params.get("metadata") or {},
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "status": "succeeded",
        }
        self._add(self.refunds, refund)
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._event("refund.created", refund)
        self._event("charge.refunded", charge, previous)
        return self._public(refund)

    def _list(self, table: dict[str, Obj], url: str, params: Obj, expand: list[str]) -> Obj:
        limit = _int(params, "limit", minimum=1, required=False) or 10
        if limit > 100:
            raise StripeFailure(400, "Invalid limit: must be between 1 and 100.", param="limit")
        items = sorted(table.values(), key=lambda o: (o["created"], self._order[o["id"]]))
        items.reverse()  # newest first, like Stripe
        created = params.get("created")
        if isinstance(created, dict):
            for op in created:
                bound = _int(created, op)
                assert bound is not None
                test = {
                    "gte": lambda c, b=bound: c >= b,
                    "gt": lambda c, b=bound: c > b,
                    "lte": lambda c, b=bound: c <= b,
                    "lt": lambda c, b=bound: c < b,
                }.get(op)
                if test is None:
                    raise StripeFailure(400, f"Invalid created[{op}]", param="created")
                items = [o for o in items if test(o["created"])]
        for name in ("status", "payment_intent"):
            if params.get(name):
                items = [o for o in items if o.get(name) == params[name]]
        ids = [o["id"] for o in items]
        if params.get("starting_after"):
            after = str(params["starting_after"])
            if after not in table:
                raise StripeFailure(
                    404,
                    f"No such object: '{after}'",
                    code="resource_missing",
                    param="starting_after",
                )
            items = items[ids.index(after) + 1 :] if after in ids else []
            page = items[:limit]
        elif params.get("ending_before"):
            before = str(params["ending_before"])
            items = items[: ids.index(before)] if before in ids else []
            page = items[-limit:]
        else:
            page = items[:limit]
        inner = [p.removeprefix("data.") for p in expand if p.startswith("data.")]
        return {
            "object": "list",
            "data": [self._expand(o, inner) for o in page],
            "has_more": len(items) > len(page),
            "url": url,
        }


@contextlib.contextmanager
def fake_stripe(api_key: str = "sk_test_fake") -> Iterator[FakeStripe]:
    """A running fake, stopped afterwards."""
    fake = FakeStripe(api_key).start()
    try:
        yield fake
    finally:
        fake.stop()
