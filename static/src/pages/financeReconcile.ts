// Finance: reconciliation (/finance/reconciliation): the runs (nightly and on demand), newest
// first, with what each checked; one run's differences on request (each linked to its order);
// and a run started now over a chosen window (at most 31 days).

import type * as api from '../api'
import { announce, fill, h } from '../dom'
import { formatDateTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { financeNav, notFinance } from './finance'
import { type ReconcileDifference, type ReconcileRun, money, payments } from './payApi'
import { topbar } from './shell'
import { readable } from './workshopApi'

function local(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

function amount(value: number | null, currency: string | null): string {
  return value === null || !currency ? '—' : money(value, currency)
}

export function financeReconcilePage(user: api.User, navigate: Navigate): Page {
  const refused = notFinance(user, navigate)
  if (refused) return refused
  const now = new Date()
  const since = h('input#run-since', { type: 'datetime-local', required: true, value: local(new Date(now.getTime() - 24 * 3600 * 1000)) })
  // The field holds whole minutes: the next one, so what happened in this minute counts.
  const until = h('input#run-until', { type: 'datetime-local', required: true, value: local(new Date(now.getTime() + 60_000)) })
  const problem = h('div', { role: 'alert', 'data-testid': 'reconcile-problem' })
  const list = h('div.stack', { 'aria-busy': 'true', style: 'min-width: 0' })
  const found = h('div.stack', { style: 'min-width: 0' })
  let busy = false

  async function show(run: ReconcileRun): Promise<void> {
    const heading = h('h2#differences-h', { tabindex: -1 }, t('reconcile.differencesOf', { id: run.id }))
    const items: ReconcileDifference[] = []
    try {
      let cursor: string | null = null
      do {
        const page = await payments.differences(run.id, cursor)
        items.push(...page.items)
        cursor = page.next
      } while (cursor && items.length < 1000)
    } catch (error) {
      problem.replaceChildren(h('p.error', null, readable(error)))
      return
    }
    fill(
      found,
      h(
        'section.stack',
        { 'aria-labelledby': 'differences-h', 'data-testid': 'differences' },
        heading,
        items.length
          ? h(
              'div.table-wrap',
              { tabindex: 0, role: 'region', 'aria-label': t('reconcile.differencesOf', { id: run.id }) },
              h(
                'table',
                null,
                h('caption.sr-only', null, t('reconcile.differencesOf', { id: run.id })),
                h('thead', null, h('tr', null, ...(['reconcile.kind', 'reconcile.order', 'reconcile.ours', 'reconcile.theirs', 'reconcile.reference'] as const).map((k) => h('th', { scope: 'col' }, t(k))))),
                h(
                  'tbody',
                  null,
                  items.map((d) =>
                    h(
                      'tr',
                      { 'data-difference': d.kind },
                      h('th', { scope: 'row' }, d.kind),
                      h('td', null, d.order_id ? h('a', { href: `/finance/orders/${d.order_id}`, 'data-link': '' }, t('reconcile.openOrder')) : '—'),
                      h('td', null, amount(d.ours_amount, d.currency)),
                      h('td', null, amount(d.theirs_amount, d.currency)),
                      h('td', null, h('code', null, d.payment_ref ?? d.session_id ?? '—')),
                    ),
                  ),
                ),
              ),
            )
          : h('p', null, t('reconcile.noDifferences')),
      ),
    )
    heading.focus()
  }

  async function load(): Promise<void> {
    list.setAttribute('aria-busy', 'true')
    try {
      const page = await payments.runs(null)
      fill(
        list,
        page.items.length
          ? h(
              'div.table-wrap',
              { tabindex: 0, role: 'region', 'aria-label': t('reconcile.runs') },
              h(
                'table',
                null,
                h('caption.sr-only', null, t('reconcile.runs')),
                h('thead', null, h('tr', null, ...(['reconcile.started_at', 'reconcile.window', 'reconcile.trigger', 'reconcile.status', 'reconcile.checked', 'reconcile.differences'] as const).map((k) => h('th', { scope: 'col' }, t(k))))),
                h(
                  'tbody',
                  null,
                  page.items.map((run) =>
                    h(
                      'tr',
                      { 'data-run': String(run.id) },
                      h('th', { scope: 'row' }, formatDateTime(run.started_at)),
                      h('td', null, `${formatDateTime(run.window_start)} – ${formatDateTime(run.window_end)}`),
                      h('td', null, run.trigger),
                      h('td', null, run.status, run.error ? h('span.muted.small', null, ` (${run.error})`) : null),
                      h('td', null, `${run.orders_checked} / ${run.provider_payments}`),
                      h(
                        'td',
                        null,
                        `${run.differences} `,
                        h('button', { type: 'button', 'aria-label': t('reconcile.showOne', { id: run.id }), onclick: () => void show(run) }, t('reconcile.show')),
                      ),
                    ),
                  ),
                ),
              ),
            )
          : h('p', null, t('reconcile.none')),
      )
    } catch (error) {
      fill(list, h('p.error', { role: 'alert' }, readable(error)))
    }
    list.setAttribute('aria-busy', 'false')
  }

  async function start(event: Event): Promise<void> {
    event.preventDefault()
    if (busy) return
    problem.replaceChildren()
    const from = new Date(since.value)
    const to = new Date(until.value)
    const span = to.getTime() - from.getTime()
    if (!(span > 0) || span > 31 * 24 * 3600 * 1000) {
      problem.replaceChildren(h('p.error', null, t('reconcile.badWindow')))
      since.focus()
      return
    }
    busy = true
    try {
      const run = await payments.startRun(from.toISOString(), to.toISOString())
      announce(t('reconcile.started', { id: run.id, status: run.status, count: run.differences }))
      await load()
    } catch (error) {
      problem.replaceChildren(h('p.error', null, readable(error)))
    } finally {
      busy = false
    }
  }

  void load()
  const field = (id: string, label: string, input: HTMLElement): HTMLElement => h('div.field', null, h('label', { for: id }, label), input)
  return {
    title: t('finance.reconciliation'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack',
        null,
        h('h1', null, t('finance.reconciliation')),
        financeNav(),
        h('p', null, t('reconcile.intro')),
        problem,
        h(
          'form.panel.stack',
          { 'aria-labelledby': 'run-now-h', onsubmit: (event: Event) => void start(event) },
          h('h2#run-now-h', null, t('reconcile.runNow')),
          field('run-since', t('reconcile.since'), since),
          field('run-until', t('reconcile.until'), until),
          h('div.row.wrap', null, h('button.primary', { type: 'submit' }, t('reconcile.start'))),
        ),
        h('section.stack', { 'aria-labelledby': 'runs-h' }, h('h2#runs-h', null, t('reconcile.runs')), list),
        found,
      ),
    ),
  }
}
