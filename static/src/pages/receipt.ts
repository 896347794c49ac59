// A printable receipt (/purchases/{order}/receipt): seller, buyer, the line, discount,
// total, refunds; a Print button. Print CSS hides the app's chrome.

import type * as api from '../api'
import { fill, h } from '../dom'
import { formatDateTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { money, payments } from './payApi'
import { topbar } from './shell'
import { readable } from './workshopApi'

const PRINT_CSS = `
.receipt dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
.receipt dd { margin: 0; }
@media print {
  .topbar, .no-print, .skip-link, #toasts { display: none !important; }
  body { background: #fff; color: #000; }
  .receipt { border: none; box-shadow: none; padding: 0; }
}`

export function receiptPage(id: string, user: api.User, navigate: Navigate): Page {
  const body = h('div.stack', { 'aria-busy': 'true' })

  async function load(): Promise<void> {
    try {
      const r = await payments.receipt(id)
      const o = r.order
      const m = (amount: number): string => money(amount, o.currency)
      fill(
        body,
        h(
          'article.panel.stack.receipt',
          { 'aria-labelledby': 'receipt-h', 'data-testid': 'receipt' },
          h('h2#receipt-h', null, t('pay.receiptNumber', { number: o.id.slice(0, 8).toUpperCase() })),
          h(
            'dl',
            null,
            h('dt', null, t('pay.seller')),
            h('dd', null, r.seller),
            h('dt', null, t('pay.buyer')),
            h('dd', null, r.buyer_email ? `${r.buyer_name} <${r.buyer_email}>` : r.buyer_name),
            h('dt', null, t('pay.orderId')),
            h('dd', null, o.id),
            h('dt', null, t('pay.paidAt')),
            h('dd', null, o.paid_at ? formatDateTime(o.paid_at) : ''),
            h('dt', null, t('pay.col.product')),
            h('dd', null, o.product_name),
            h('dt', null, t('pay.subtotal')),
            h('dd', null, m(o.subtotal)),
            h('dt', null, t('pay.discount')),
            h('dd', null, m(o.discount)),
            h('dt', null, t('pay.total')),
            h('dd', { 'data-testid': 'receipt-total' }, m(o.total)),
            ...r.refunds.flatMap((f) => [h('dt', null, t('pay.refundOn', { when: formatDateTime(f.created_at) })), h('dd', null, `−${m(f.amount)} (${f.status})`)]),
          ),
        ),
        h(
          'p.row.wrap.no-print',
          null,
          h('button.primary', { type: 'button', onclick: () => window.print() }, t('pay.print')),
          h('a', { href: `/purchases/${id}`, 'data-link': '' }, t('pay.backToPurchase')),
        ),
      )
    } catch (error) {
      fill(body, h('p.error', { role: 'alert' }, readable(error)))
    }
    body.setAttribute('aria-busy', 'false')
  }
  void load()
  return {
    title: t('pay.receipt'),
    el: h('div', null, h('style', null, PRINT_CSS), topbar(user, navigate), h('main#main.page.stack', null, h('h1', null, t('pay.receipt')), body)),
  }
}
