// Finance pages: every order with a status filter (/finance/orders) and one order with its
// refunds and the refund form (/finance/orders/{order}): full or partial, a reason, a
// confirmation, one Idempotency-Key per intent so a double click refunds once.

import type * as api from '../api'
import { announce, confirmDialog, fill, h } from '../dom'
import { formatDateTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { type FinanceOrder, ORDER_STATUSES, type PaymentEvent, isFinance, money, newKey, payments, toMinor } from './payApi'
import { topbar } from './shell'
import { readable } from './workshopApi'

export function financeNav(): HTMLElement {
  return h(
    'nav.row.wrap',
    { 'aria-label': t('finance.nav') },
    h('a.button', { href: '/finance/orders', 'data-link': '' }, t('finance.orders')),
    h('a.button', { href: '/finance/coupons', 'data-link': '' }, t('finance.coupons')),
    h('a.button', { href: '/finance/products', 'data-link': '' }, t('finance.products')),
    h('a.button', { href: '/finance/reconciliation', 'data-link': '' }, t('finance.reconciliation')),
    h('a.button', { href: '/finance/reports', 'data-link': '' }, t('finance.reports')),
  )
}

export function notFinance(user: api.User, navigate: Navigate): Page | null {
  if (isFinance(user)) return null
  return {
    title: t('finance.title'),
    el: h('div', null, topbar(user, navigate), h('main#main.page.stack', null, h('h1', null, t('finance.title')), h('p', { role: 'alert' }, t('finance.only')))),
  }
}

export function financeOrdersPage(user: api.User, navigate: Navigate): Page {
  const refused = notFinance(user, navigate)
  if (refused) return refused
  const params = new URLSearchParams(location.search)
  const filter = h(
    'select#order-status',
    { name: 'status', style: 'max-width: 100%' },
    h('option', { value: '' }, t('finance.anyStatus')),
    ORDER_STATUSES.map((s) => h('option', { value: s, selected: params.get('status') === s }, t(`pay.state.${s}`))),
  )
  const rows = h('tbody')
  const list = h('div.stack', { 'aria-busy': 'true', style: 'min-width: 0' })
  const count = h('p', { role: 'status' })
  const more = h('div')
  let cursor: string | null = null

  function row(o: FinanceOrder): HTMLElement {
    return h(
      'tr',
      { 'data-order': o.id },
      h('th', { scope: 'row' }, h('a', { href: `/finance/orders/${o.id}`, 'data-link': '' }, o.product_name)),
      h('td', null, o.buyer),
      h('td', null, formatDateTime(o.created_at)),
      h('td', null, money(o.total, o.currency), o.refunded_amount ? ` (−${money(o.refunded_amount, o.currency)})` : ''),
      h('td', null, t(`pay.status.${o.status}`), o.flag ? h('span.badge.warn', null, ` ${o.flag}`) : null),
    )
  }

  async function load(reset: boolean): Promise<void> {
    list.setAttribute('aria-busy', 'true')
    if (reset) {
      cursor = null
      rows.replaceChildren()
    }
    try {
      const page = await payments.all(filter.value || null, cursor)
      cursor = page.next
      for (const o of page.items) rows.appendChild(row(o))
      count.textContent = t('finance.shown', { count: rows.childElementCount })
      fill(
        list,
        rows.childElementCount
          ? h(
              'div.table-wrap',
              { tabindex: 0, role: 'region', 'aria-label': t('finance.orders') },
              h(
                'table',
                null,
                h('caption.sr-only', null, t('finance.orders')),
                h('thead', null, h('tr', null, ...(['pay.col.product', 'finance.buyer', 'pay.col.date', 'pay.col.amount', 'pay.col.status'] as const).map((k) => h('th', { scope: 'col' }, t(k))))),
                rows,
              ),
            )
          : h('p', null, t('finance.none')),
      )
      fill(more, cursor ? h('button', { type: 'button', onclick: () => void load(false) }, t('pay.more')) : null)
    } catch (error) {
      fill(list, h('p.error', { role: 'alert' }, readable(error)))
    }
    list.setAttribute('aria-busy', 'false')
  }
  void load(true)
  return {
    title: t('finance.orders'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack',
        null,
        h('h1', null, t('finance.orders')),
        financeNav(),
        h(
          'form.row.wrap',
          {
            onsubmit: (event: Event) => {
              event.preventDefault()
              history.replaceState(null, '', filter.value ? `/finance/orders?status=${filter.value}` : '/finance/orders')
              void load(true)
            },
          },
          h('div.field', null, h('label', { for: 'order-status' }, t('finance.status')), filter),
          h('button', { type: 'submit' }, t('finance.filter')),
        ),
        count,
        list,
        more,
      ),
    ),
  }
}

/** What an order's flag means, for finance staff. */
export function flagText(flag: string): string {
  if (flag === 'paid_without_seat') return t('finance.flag.paidWithoutSeat')
  if (flag === 'auto_refund_failed') return t('finance.flag.autoRefundFailed')
  if (flag === 'paid_after_expiry') return t('finance.flag.paidAfterExpiry')
  if (flag === 'refund_failed') return t('finance.flag.refundFailed')
  if (flag === 'refund_failed_no_seat') return t('finance.flag.refundFailedNoSeat')
  return flag
}

async function providerEvents(orderId: string): Promise<PaymentEvent[]> {
  const all: PaymentEvent[] = []
  let cursor: string | null = null
  do {
    const page = await payments.events(orderId, cursor)
    all.push(...page.items)
    cursor = page.next
  } while (cursor && all.length < 1000)
  return all
}

/** The provider's events about one order as we stored them: what came, when, what it did. */
function eventsTable(events: PaymentEvent[]): HTMLElement {
  return h(
    'section.stack',
    { 'aria-labelledby': 'provider-events-h' },
    h('h2#provider-events-h', null, t('finance.providerEvents')),
    events.length
      ? h(
          'div.table-wrap',
          { tabindex: 0, role: 'region', 'aria-label': t('finance.providerEvents') },
          h(
            'table',
            { 'data-testid': 'provider-events' },
            h('caption.sr-only', null, t('finance.providerEvents')),
            h('thead', null, h('tr', null, ...(['finance.evType', 'finance.evId', 'finance.evReceived', 'finance.evOutcome'] as const).map((k) => h('th', { scope: 'col' }, t(k))))),
            h(
              'tbody',
              null,
              events.map((e) =>
                h(
                  'tr',
                  { 'data-event': e.event_id },
                  h('th', { scope: 'row' }, e.raw_type || e.type),
                  h('td', null, h('code', null, e.event_id)),
                  h('td', null, formatDateTime(e.received_at)),
                  h('td', null, e.outcome ? t('finance.outcome', { outcome: e.outcome }) : '—', e.flag ? h('span.badge.warn', null, ` ${e.flag}`) : null),
                ),
              ),
            ),
          ),
        )
      : h('p', null, t('finance.noEvents')),
  )
}

export function financeOrderPage(id: string, user: api.User, navigate: Navigate): Page {
  const refused = notFinance(user, navigate)
  if (refused) return refused
  const heading = h('h1', null, t('finance.order'))
  const body = h('div.stack', { 'aria-busy': 'true' })
  const problem = h('div', { role: 'alert', 'data-testid': 'refund-problem' })
  let key: string | null = null
  let intent = ''
  let busy = false

  function refundForm(o: FinanceOrder): HTMLElement | null {
    const left = o.total - o.refunded_amount
    if (!o.paid_at || left <= 0 || !['paid', 'fulfilled', 'partially_refunded'].includes(o.status)) return null
    const amount = h('input#refund-amount', { type: 'text', inputmode: 'decimal', 'aria-describedby': 'refund-hint' })
    const reason = h('textarea#refund-reason', { maxlength: 500, rows: 2 })
    return h(
      'form.panel.stack',
      {
        'aria-labelledby': 'refund-h',
        onsubmit: async (event: Event) => {
          event.preventDefault()
          if (busy) return
          problem.replaceChildren()
          const typed = amount.value.trim()
          const minor = typed ? toMinor(typed, o.currency) : left
          if (minor === null || minor > left) {
            problem.replaceChildren(h('p.error', null, t('finance.badAmount', { left: money(left, o.currency) })))
            amount.focus()
            return
          }
          const full = minor === left
          const sure = await confirmDialog(
            t('finance.refundTitle'),
            t(full ? 'finance.confirmFull' : 'finance.confirmPartial', { amount: money(minor, o.currency), buyer: o.buyer }),
            t('finance.refund'),
            true,
          )
          if (!sure) return
          const now = `${minor}|${reason.value}`
          if (key === null || now !== intent) {
            key = newKey()
            intent = now
          }
          busy = true
          try {
            await payments.refund(id, full ? null : minor, reason.value.trim() || null, key)
            key = null
            announce(t('finance.refunded', { amount: money(minor, o.currency) }))
            await load()
          } catch (error) {
            problem.replaceChildren(h('p.error', null, readable(error)))
          } finally {
            busy = false
          }
        },
      },
      h('h2#refund-h', null, t('finance.refund')),
      h('div.field', null, h('label', { for: 'refund-amount' }, t('finance.amount', { currency: o.currency })), amount),
      h('p#refund-hint.muted.small', null, t('finance.amountHint', { left: money(left, o.currency) })),
      h('div.field', null, h('label', { for: 'refund-reason' }, t('finance.reason')), reason),
      h('div.row.wrap', null, h('button.danger', { type: 'submit' }, t('finance.refundButton'))),
    )
  }

  async function load(): Promise<void> {
    try {
      const [order, refunds, events] = await Promise.all([payments.financeOrder(id), payments.refunds(id), providerEvents(id)])
      // A paid order's receipt names its buyer.
      const paid = order.paid_at ? await payments.receipt(id) : null
      const buyer = paid ? (paid.buyer_email ? `${paid.buyer_name} <${paid.buyer_email}>` : paid.buyer_name) : order.buyer
      const o: FinanceOrder = { ...order, buyer }
      heading.textContent = t('finance.orderOf', { name: o.product_name })
      const m = (a: number): string => money(a, o.currency)
      fill(
        body,
        financeNav(),
        h(
          'dl.facts',
          null,
          h('dt', null, t('finance.buyer')),
          h('dd', null, o.buyer),
          h('dt', null, t('pay.col.status')),
          h('dd', { 'data-testid': 'order-status' }, t(`pay.status.${o.status}`)),
          h('dt', null, t('pay.total')),
          h('dd', null, m(o.total)),
          h('dt', null, t('finance.refundedSoFar')),
          h('dd', { 'data-testid': 'refunded' }, m(o.refunded_amount)),
          h('dt', null, t('finance.provider')),
          h('dd', null, o.provider ?? '—'),
          h('dt', null, t('finance.sessionRef')),
          h('dd', { 'data-testid': 'session-ref' }, h('code', null, o.session_id ?? '—')),
          h('dt', null, t('finance.paymentRef')),
          h('dd', { 'data-testid': 'payment-ref' }, h('code', null, o.payment_ref ?? '—')),
          o.flag ? [h('dt', null, t('finance.flag')), h('dd', { 'data-testid': 'order-flag' }, flagText(o.flag))] : [],
        ),
        h(
          'section.stack',
          { 'aria-labelledby': 'events-h' },
          h('h2#events-h', null, t('finance.history')),
          h(
            'ol.stack',
            null,
            h('li', null, t('finance.ev.created', { when: formatDateTime(o.created_at) })),
            o.paid_at ? h('li', null, t('finance.ev.paid', { when: formatDateTime(o.paid_at) })) : null,
            o.fulfilled_at ? h('li', null, t('finance.ev.fulfilled', { when: formatDateTime(o.fulfilled_at) })) : null,
            refunds.map((f) => h('li', null, t('finance.ev.refund', { when: formatDateTime(f.created_at), amount: m(f.amount), status: f.status, reason: f.reason ?? '—' }))),
            o.revoked_at ? h('li', null, t('finance.ev.revoked', { when: formatDateTime(o.revoked_at) })) : null,
          ),
        ),
        eventsTable(events),
        refundForm(o),
      )
    } catch (error) {
      fill(body, h('p.error', { role: 'alert' }, readable(error)))
    }
    body.setAttribute('aria-busy', 'false')
  }
  void load()
  return {
    title: t('finance.order'),
    el: h('div', null, topbar(user, navigate), h('main#main.page.stack', null, h('p', null, h('a', { href: '/finance/orders', 'data-link': '' }, t('finance.back'))), heading, problem, body)),
  }
}
