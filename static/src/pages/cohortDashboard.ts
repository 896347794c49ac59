// A cohort's dashboard for its facilitators: per learner progress against the pacing,
// sessions attended, last activity and who is falling behind. Column headers are buttons
// that sort (aria-sort says how); the table downloads as CSV.

import type * as api from '../api'
import { announce, download, fill, h } from '../dom'
import { formatDateTime, formatPercent, t } from '../i18n'
import type { MessageKey } from '../i18n'
import type { Navigate, Page } from '../main'
import { type Dashboard, type LearnerRow, type SortKey, cohorts, readable } from './cohortApi'
import { field, numberInput } from './formkit'
import { topbar } from './shell'

const COLUMNS: SortKey[] = ['name', 'progress', 'expected', 'attendance', 'last_active', 'behind']

function cells(row: LearnerRow): HTMLElement[] {
  const reasons = row.reasons.map((r) => t(`dashboard.reason.${r}` as MessageKey)).join(', ')
  return [
    h('th', { scope: 'row' }, row.name, h('span.muted.small', null, ` · ${row.email}`)),
    h('td', null, formatPercent(row.percent / 100)),
    h('td', null, formatPercent(row.expected_percent / 100)),
    h('td', null, t('dashboard.attended', { attended: row.attended, held: row.sessions_held })),
    h('td', null, formatDateTime(row.last_active)),
    h(
      'td',
      { 'data-testid': 'learner-status' },
      row.behind ? h('span.badge.warn', null, `${t('dashboard.behind')} (${reasons})`) : h('span.badge.done', null, t('dashboard.onTrack')),
    ),
  ]
}

export function cohortDashboardPage(cohortId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', null, t('dashboard.title'))
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('dashboard.loading')))
  const summary = h('p', { role: 'status', 'data-testid': 'behind-count' })
  const days = numberInput(7, { inputmode: 'numeric', 'data-testid': 'inactive-days' })
  let sort: SortKey = 'behind'
  let order: 'asc' | 'desc' = 'desc'
  let focusSort: SortKey | null = null

  function header(key: SortKey): HTMLElement {
    const active = key === sort
    const label = t(`dashboard.col.${key}` as MessageKey)
    return h(
      'th',
      { scope: 'col', 'aria-sort': active ? (order === 'asc' ? 'ascending' : 'descending') : 'none' },
      h(
        'button.sort-button',
        {
          type: 'button',
          'data-sort': key,
          onclick: () => {
            order = active && order === 'desc' ? 'asc' : active ? 'desc' : key === 'name' ? 'asc' : 'desc'
            sort = key
            focusSort = key
            void load(true)
          },
        },
        label,
        active ? h('span', { 'aria-hidden': 'true' }, order === 'asc' ? ' ▲' : ' ▼') : null,
      ),
    )
  }

  function table(board: Dashboard): HTMLElement {
    if (!board.learners.length) return h('p.muted', null, t('dashboard.none'))
    return h(
      'div.table-wrap',
      { tabindex: 0, role: 'region', 'aria-labelledby': 'dashboard-caption' },
      h(
        'table.table',
        { 'data-testid': 'dashboard' },
        h('caption#dashboard-caption', null, t('dashboard.caption')),
        h('thead', null, h('tr', null, COLUMNS.map(header))),
        h('tbody', null, board.learners.map((row) => h('tr', { 'data-user-id': row.user_id }, cells(row)))),
      ),
    )
  }

  function inactiveDays(): number {
    const value = Number(days.value)
    return Number.isInteger(value) && value >= 1 && value <= 365 ? value : 7
  }

  async function load(sorted = false): Promise<void> {
    try {
      const board = await cohorts.dashboard(cohortId, sort, order, inactiveDays())
      body.setAttribute('aria-busy', 'false')
      summary.textContent = t('dashboard.behindCount', { count: board.behind })
      fill(body, table(board))
      if (sorted) {
        announce(t('dashboard.sorted', { column: t(`dashboard.col.${sort}` as MessageKey), order: t(order === 'asc' ? 'dashboard.sortedAsc' : 'dashboard.sortedDesc') }))
        if (focusSort) body.querySelector<HTMLElement>(`[data-sort="${focusSort}"]`)?.focus()
      }
    } catch (error) {
      body.setAttribute('aria-busy', 'false')
      fill(body, h('p.error', { role: 'alert' }, readable(error)))
    }
  }

  async function title(): Promise<void> {
    try {
      const cohort = await cohorts.get(cohortId)
      heading.textContent = t('dashboard.heading', { cohort: cohort.name })
    } catch {
      // the table reports what went wrong
    }
  }

  const controls = h(
    'form.row.wrap.end',
    {
      novalidate: true,
      onsubmit: (event: Event) => {
        event.preventDefault()
        void load()
      },
    },
    field(t('dashboard.inactiveDays'), days),
    h('button', { type: 'submit' }, t('dashboard.refresh')),
    h(
      'button',
      {
        type: 'button',
        onclick: async () => {
          try {
            download('cohort-dashboard.csv', await cohorts.dashboardCsv(cohortId, sort, order, inactiveDays()), 'text/csv')
          } catch (error) {
            announce(readable(error), 'assertive')
          }
        },
      },
      t('dashboard.export'),
    ),
  )

  void title()
  void load()
  return {
    title: t('dashboard.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack',
        null,
        h('p', null, h('a', { href: `/cohorts/${cohortId}`, 'data-link': '' }, t('cohort.title'))),
        heading,
        h('p.small.muted', null, t('dashboard.rule')),
        controls,
        summary,
        body,
      ),
    ),
  }
}
