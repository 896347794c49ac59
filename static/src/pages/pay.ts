// The "Buy" box shown on a course or workshop page that has a product: its price (a
// currency picker when there are several), a coupon field, and the Buy button. The order is
// created and priced on the server with an Idempotency-Key made once per intent to pay (a
// double click, or a retry after a network error, makes one order); then the browser goes
// to the provider's checkout page, which comes back to /purchases/{order}.

import { ApiError } from '../api'
import { h } from '../dom'
import { t } from '../i18n'
import type { Navigate } from '../main'
import { type Product, money, newKey, payments } from './payApi'
import { readable } from './workshopApi'

export function buyBox(product: Product, label: string, navigate: Navigate): HTMLElement {
  const prices = product.prices
  const problem = h('div', { role: 'alert', 'data-testid': 'buy-problem' })
  const status = h('p.muted', { role: 'status', 'data-testid': 'buy-status' })
  const price = h('p.price', { 'data-testid': 'price' })
  const currency = h(
    'select#buy-currency',
    null,
    prices.map((p) => h('option', { value: p.currency }, `${p.currency} · ${money(p.unit_amount, p.currency)}`)),
  )
  const coupon = h('input#buy-coupon', { type: 'text', autocomplete: 'off', maxlength: 40, spellcheck: false })
  const button = h('button.primary', { type: 'submit', 'data-testid': 'buy' }, label)
  // One key per intent: the same choices keep it; changing them starts a new intent.
  let key: string | null = null
  let intent = ''
  let busy = false

  function showPrice(): void {
    const chosen = prices.find((p) => p.currency === currency.value) ?? prices[0]
    price.textContent = t('pay.price', { price: money(chosen.unit_amount, chosen.currency) })
  }
  currency.addEventListener('change', showPrice)
  showPrice()

  async function buy(event: Event): Promise<void> {
    event.preventDefault()
    if (busy) return
    const code = coupon.value.trim() || null
    const now = `${currency.value}|${code ?? ''}`
    if (key === null || now !== intent) {
      key = newKey()
      intent = now
    }
    busy = true
    button.setAttribute('aria-disabled', 'true')
    problem.replaceChildren()
    status.textContent = t('pay.creating')
    try {
      const order = await payments.order(product.id, currency.value, code, key)
      if (order.discount > 0) status.textContent = t('pay.couponApplied', { discount: money(order.discount, order.currency), total: money(order.total, order.currency) })
      if (order.checkout_url) {
        status.textContent = t('pay.redirecting')
        window.location.assign(order.checkout_url)
        return
      }
      navigate(`/purchases/${order.id}`)
    } catch (error) {
      status.textContent = ''
      const links = followUps(error)
      problem.replaceChildren(h('p.error', null, readable(error)), ...(links.length ? [h('p.row.wrap', null, links)] : []))
      // A refused order (a bad coupon) is an answer: the next click is a new intent.
      key = null
      if (links.length) links[0].focus()
      else coupon.focus()
    } finally {
      busy = false
      button.removeAttribute('aria-disabled')
    }
  }

  return h(
    'section.panel.stack',
    { 'aria-labelledby': 'buy-h', 'data-testid': 'buy-box' },
    h('h2#buy-h', null, t('pay.heading', { name: product.name })),
    price,
    h(
      'form.stack',
      { onsubmit: (event: Event) => void buy(event), novalidate: true },
      prices.length > 1 ? h('div.field', null, h('label', { for: 'buy-currency' }, t('pay.currency')), currency) : null,
      h('div.field', null, h('label', { for: 'buy-coupon' }, t('pay.coupon')), coupon),
      h('div.row.wrap', null, button),
    ),
    status,
    problem,
  )
}

/** Where a refused order can go on: an order of the same thing already open (409
 * ``pending``: its checkout) or bought (409 ``owned``: the purchase). */
function followUps(error: unknown): HTMLElement[] {
  if (!(error instanceof ApiError) || error.status !== 409) return []
  const { reason, order_id: orderId, checkout_url: checkoutUrl } = error.body
  const links: HTMLElement[] = []
  if (reason === 'pending' && typeof checkoutUrl === 'string' && /^https?:\/\//.test(checkoutUrl)) {
    links.push(h('a.button.primary', { href: checkoutUrl, 'data-testid': 'continue-checkout' }, t('pay.continueCheckout')))
  }
  if (typeof orderId === 'string' && /^[0-9a-f-]{36}$/.test(orderId)) {
    links.push(h('a', { href: `/purchases/${orderId}`, 'data-link': '', 'data-testid': 'see-order' }, t('pay.seeOrder')))
  }
  return links
}
