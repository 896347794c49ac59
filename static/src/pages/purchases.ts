// My purchases (/purchases) and one purchase (/purchases/{order}): the page the provider's
// checkout comes back to. It follows a pending order to paid and fulfilled by polling and
// says each change through a live region; links to the printable receipt once paid. A seat
// paid after its hold lapsed with the workshop full says it is (being) refunded in full.

import type * as api from '../api'
import { announce, fill, h } from '../dom'
import { formatDateTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { type Order, money, payments, settled } from './payApi'
import { topbar } from './shell'
import { readable } from './workshopApi'

function statusText(order: Order): string {
  // Paid after the seat hold lapsed, with the workshop full: the money goes back by itself.
  if (order.flag === 'auto_refund_failed') return t('pay.noSeat.failed')
  if (order.flag === 'paid_without_seat') return t(order.status === 'refunded' ? 'pay.noSeat.refunded' : 'pay.noSeat.paid')
  // A refund that failed at the provider after it was accepted: the money stayed with us.
  if (order.status !== 'refunded') {
    if (order.flag === 'refund_failed_no_seat') return t('pay.refundFailed.noSeat')
    if (order.flag === 'refund_failed') return t('pay.refundFailed')
  }
  return t(`pay.status.${order.status}`)
}

function amountLine(order: Order): string {
  const total = money(order.total, order.currency)
  return order.refunded_amount > 0 ? t('pay.totalRefunded', { total, refunded: money(order.refunded_amount, order.currency) }) : total
}

export function purchasesPage(user: api.User, navigate: Navigate): Page {
  const list = h('div.stack', { 'aria-busy': 'true', style: 'min-width: 0' })
  const more = h('div')
  let cursor: string | null = null
  const rows = h('tbody')

  async function load(): Promise<void> {
    try {
      const page = await payments.mine(cursor)
      cursor = page.next
      for (const order of page.items) {
        rows.appendChild(
          h(
            'tr',
            { 'data-order': order.id },
            h('th', { scope: 'row' }, h('a', { href: `/purchases/${order.id}`, 'data-link': '' }, order.product_name)),
            h('td', null, formatDateTime(order.created_at)),
            h('td', null, amountLine(order)),
            h('td', null, statusText(order)),
            h('td', null, order.paid_at ? h('a', { href: `/purchases/${order.id}/receipt`, 'data-link': '' }, t('pay.receiptFor', { name: order.product_name })) : ''),
          ),
        )
      }
      if (!rows.childElementCount) fill(list, h('p', null, t('pay.noPurchases')))
      else
        fill(
          list,
          h(
            'div.table-wrap',
            { tabindex: 0, role: 'region', 'aria-label': t('pay.purchases') },
            h(
              'table',
              null,
              h('caption.sr-only', null, t('pay.purchases')),
              h('thead', null, h('tr', null, ...['pay.col.product', 'pay.col.date', 'pay.col.amount', 'pay.col.status', 'pay.col.receipt'].map((k) => h('th', { scope: 'col' }, t(k as 'pay.col.product'))))),
              rows,
            ),
          ),
        )
      fill(more, cursor ? h('button', { type: 'button', onclick: () => void load() }, t('pay.more')) : null)
    } catch (error) {
      fill(list, h('p.error', { role: 'alert' }, readable(error)))
    }
    list.setAttribute('aria-busy', 'false')
  }
  void load()
  return {
    title: t('pay.purchases'),
    el: h('div', null, topbar(user, navigate), h('main#main.page.stack', null, h('h1', null, t('pay.purchases')), list, more)),
  }
}

export function purchasePage(id: string, user: api.User, navigate: Navigate): Page {
  const params = new URLSearchParams(location.search)
  const heading = h('h1', null, params.get('cancelled') ? t('pay.cancelledHeading') : t('pay.thanks'))
  const state = h('p', { role: 'status', 'aria-live': 'polite', 'data-testid': 'order-status' }, t('pay.loading'))
  const body = h('div.stack')
  let timer = 0
  let last = ''
  let stopped = false

  async function follow(): Promise<void> {
    if (stopped) return
    try {
      const order = await payments.get(id)
      const text = order.status === 'pending' ? t('pay.waiting') : statusText(order)
      if (text !== last) {
        state.textContent = text
        last = text
      }
      fill(
        body,
        h(
          'dl.facts',
          null,
          h('dt', null, t('pay.col.product')),
          h('dd', null, order.product_name),
          h('dt', null, t('pay.col.amount')),
          h('dd', { 'data-testid': 'order-total' }, amountLine(order)),
          order.discount > 0 ? [h('dt', null, t('pay.discount')), h('dd', null, money(order.discount, order.currency))] : [],
          h('dt', null, t('pay.col.date')),
          h('dd', null, formatDateTime(order.created_at)),
        ),
        h(
          'p.row.wrap',
          null,
          order.paid_at ? h('a.button', { href: `/purchases/${id}/receipt`, 'data-link': '' }, t('pay.receipt')) : null,
          order.status === 'pending' && order.checkout_url ? h('a.button', { href: order.checkout_url }, t('pay.continue')) : null,
          h('a', { href: '/purchases', 'data-link': '' }, t('pay.allPurchases')),
        ),
      )
      if (order.status === 'fulfilled' || settled(order)) return
    } catch (error) {
      state.textContent = readable(error)
      announce(readable(error))
    }
    timer = window.setTimeout(() => void follow(), 1500)
  }
  void follow()
  return {
    title: t('pay.purchase'),
    destroy: () => {
      stopped = true
      window.clearTimeout(timer)
    },
    el: h('div', null, topbar(user, navigate), h('main#main.page.stack', null, heading, state, body)),
  }
}
