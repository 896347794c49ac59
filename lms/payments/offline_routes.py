"""The offline provider's hosted checkout page (what Stripe Checkout is for Stripe): the
amount and Pay / Decline buttons. Pressing one records it at the provider and sends the
signed webhook by a job; the browser goes back to the shop's success or cancel page.
Only there when the offline provider is the node's provider."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import HTMLResponse, RedirectResponse

from lms.errors import NotFound
from lms.payments.offline import OfflineProvider
from lms.payments.receipts import money
from lms.payments.routes import ProviderDep
from ops.guards import public
from persistence.models.base import utcnow

router = APIRouter(tags=["payments"], dependencies=[Depends(public)], include_in_schema=False)
SessionId = Annotated[str, Path(max_length=64)]


def _offline(provider: object) -> OfflineProvider:
    if not isinstance(provider, OfflineProvider):
        raise NotFound("No such page.")
    return provider


def _page(title: str, body: str) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;"
        "padding:0 1rem;color:#1a1a1a;line-height:1.5}button{font-size:1rem;padding:.6rem 1.2rem;"
        "margin:.5rem .5rem 0 0;border-radius:.3rem;border:1px solid #333;cursor:pointer}"
        ".pay{background:#0b57d0;color:#fff;border-color:#0b57d0}"
        "button:focus-visible{outline:3px solid #1a1a1a;outline-offset:2px}</style>"
        f"</head><body><main>{body}</main></body></html>"
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get(
    "/pay/offline/{session_id}", summary="Offline checkout page", response_class=HTMLResponse
)
async def checkout_page(session_id: SessionId, provider: ProviderDep) -> HTMLResponse:
    offline = _offline(provider)
    row = await offline.session(session_id)
    if row is None:
        raise NotFound("No such checkout.")
    title = "Offline checkout"
    amount = escape(money(row.amount, row.currency))
    if row.status == "paid":
        body = f'<h1>{title}</h1><p role="status">This checkout is paid ({amount}).</p>'
        return _page(title, body)
    if row.status == "expired" or utcnow() >= row.expires_at:
        body = f'<h1>{title}</h1><p role="status">This checkout has expired.</p>'
        return _page(title, body)
    sid = escape(row.id, quote=True)
    body = (
        f"<h1>{title}</h1>"
        "<p>This is the test payment provider built into liveclass: no card is asked for.</p>"
        f"<p><strong>{escape(row.description)}</strong></p>"
        f"<p>Amount: <strong>{amount}</strong></p>"
        f'<form method="post" action="/pay/offline/{sid}/pay" style="display:inline">'
        '<button class="pay" type="submit">Pay</button></form>'
        f'<form method="post" action="/pay/offline/{sid}/decline" style="display:inline">'
        '<button type="submit">Decline</button></form>'
    )
    return _page(title, body)


async def _complete(provider: object, session_id: str, paid: bool) -> RedirectResponse:
    offline = _offline(provider)
    row = await offline.complete(session_id, paid)
    if row is None:
        known = await offline.session(session_id)
        if known is None:
            raise NotFound("No such checkout.")
        # Paid already (a double click) or expired: back to the shop, nothing charged twice.
        target = known.success_url if known.status == "paid" else known.cancel_url
        return RedirectResponse(target, status_code=303)
    return RedirectResponse(row.success_url if paid else row.cancel_url, status_code=303)


@router.post("/pay/offline/{session_id}/pay", summary="Offline checkout: pay", status_code=303)
async def pay(session_id: SessionId, provider: ProviderDep) -> RedirectResponse:
    return await _complete(provider, session_id, True)


@router.post(
    "/pay/offline/{session_id}/decline", summary="Offline checkout: decline", status_code=303
)
async def decline(session_id: SessionId, provider: ProviderDep) -> RedirectResponse:
    return await _complete(provider, session_id, False)
