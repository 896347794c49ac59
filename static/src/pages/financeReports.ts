// Finance: the revenue report by product and month (/finance/reports): a range of months in
// the viewer's time zone, shown as a table and downloaded as CSV.

import * as api from '../api'
import { announce, download, fill, h } from '../dom'
import { t } from '../i18n'
import type { Navigate, Page } from '../main'
import { financeNav, notFinance } from './finance'
import { money } from './payApi'
import { topbar } from './shell'
import { readable } from './workshopApi'

interface RevenueRow {
  month: string
  product_name: string
  currency: string
  orders: number
  gross: number
  discounts: number
  refunds: number
  net: number
}

function month(offset: number): string {
  const now = new Date()
  const d = new Date(now.getFullYear(), now.getMonth() + offset, 1)
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`
}

export function financeReportsPage(user: api.User, navigate: Navigate): Page {
  const refused = notFinance(user, navigate)
  if (refused) return refused
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
  const first = h('input#report-first', { type: 'month', value: month(-11), required: true })
  const last = h('input#report-last', { type: 'month', value: month(0), required: true })
  const problem = h('div', { role: 'alert', 'data-testid': 'report-problem' })
  const result = h('div.stack', { style: 'min-width: 0' })
  const path = (format: string): string =>
    `/api/v1/payments/reports/revenue?${new URLSearchParams({ first: first.value, last: last.value, tz: zone, format })}`

  async function show(event: Event): Promise<void> {
    event.preventDefault()
    problem.replaceChildren()
    try {
      const report = await api.request<{ items: RevenueRow[] }>('GET', path('json'))
      const cells = (r: RevenueRow): string[] => [r.month, r.product_name, String(r.orders), money(r.gross, r.currency), money(r.discounts, r.currency), money(r.refunds, r.currency), money(r.net, r.currency)]
      fill(
        result,
        report.items.length
          ? h(
              'div.table-wrap',
              { tabindex: 0, role: 'region', 'aria-label': t('reports.heading') },
              h(
                'table',
                null,
                h('caption', null, t('reports.caption', { first: first.value, last: last.value, zone })),
                h('thead', null, h('tr', null, ...(['reports.month', 'pay.col.product', 'reports.orders', 'reports.gross', 'pay.discount', 'reports.refunds', 'reports.net'] as const).map((k) => h('th', { scope: 'col' }, t(k))))),
                h('tbody', null, report.items.map((r) => h('tr', null, ...cells(r).map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', null, c)))))),
              ),
            )
          : h('p', null, t('reports.none')),
      )
      announce(t('reports.shown', { count: report.items.length }))
    } catch (error) {
      problem.replaceChildren(h('p.error', null, readable(error)))
    }
  }

  async function csv(): Promise<void> {
    problem.replaceChildren()
    try {
      const response = await api.request<Response>('GET', path('csv'), { raw: true, headers: { accept: 'text/csv' } })
      download(`revenue-${first.value}-${last.value}.csv`, await response.blob(), 'text/csv')
      announce(t('reports.downloaded'))
    } catch (error) {
      problem.replaceChildren(h('p.error', null, readable(error)))
    }
  }

  return {
    title: t('finance.reports'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack',
        null,
        h('h1', null, t('finance.reports')),
        financeNav(),
        h(
          'form.panel.stack',
          { 'aria-labelledby': 'report-h', onsubmit: (event: Event) => void show(event) },
          h('h2#report-h', null, t('reports.heading')),
          h('p.muted', null, t('reports.zone', { zone })),
          h('div.field', null, h('label', { for: 'report-first' }, t('reports.first')), first),
          h('div.field', null, h('label', { for: 'report-last' }, t('reports.last')), last),
          h('div.row.wrap', null, h('button.primary', { type: 'submit' }, t('reports.show')), h('button', { type: 'button', onclick: () => void csv() }, t('reports.csv'))),
        ),
        problem,
        result,
      ),
    ),
  }
}
