// A course's progress table, for its instructors and TAs: per learner the course
// percentage and per item completed, viewed or the share watched; paged with "Load more".

import * as api from '../api'
import { announce, fill, h } from '../dom'
import { formatPercent, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'

function readable(error: unknown): string {
  return error instanceof api.ApiError ? error.readable : error instanceof Error ? error.message : String(error)
}

function cell(progress: api.ItemProgress | undefined): HTMLElement {
  if (progress?.completed) return h('td.state-done', null, h('span', { 'aria-hidden': 'true' }, '✓ '), t('progress.completed'))
  if (progress && progress.watched_share > 0) return h('td', null, t('progress.watched', { percent: formatPercent(progress.watched_share) }))
  if (progress?.viewed) return h('td', null, t('progress.viewed'))
  return h('td.muted', null, t('progress.notStarted'))
}

export function progressPage(courseId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', null, t('progress.title'))
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('progress.loading')))
  const rows = h('tbody')
  let items: api.Item[] = []
  let next: string | null = null
  let total = 0
  const more = h('button', { type: 'button', hidden: true, onclick: () => void page(true) }, t('progress.more'))

  function row(learner: api.LearnerProgress): HTMLElement {
    return h(
      'tr',
      { 'data-user-id': learner.user_id },
      h('th', { scope: 'row' }, learner.name),
      h('td', null, formatPercent(learner.percent / 100)),
      items.map((item) => cell(learner.items[item.id])),
    )
  }

  async function page(again: boolean): Promise<void> {
    try {
      const found = await api.content.progress(courseId, again ? next : null)
      if (!again) {
        items = found.items
        body.setAttribute('aria-busy', 'false')
        fill(
          body,
          found.learners.length
            ? h(
                'div.table-wrap',
                { tabindex: 0, role: 'region', 'aria-labelledby': 'progress-caption' },
                h(
                  'table.table.progress-table',
                  null,
                  h('caption#progress-caption', null, t('progress.caption')),
                  h(
                    'thead',
                    null,
                    h(
                      'tr',
                      null,
                      h('th', { scope: 'col' }, t('progress.learner')),
                      h('th', { scope: 'col' }, t('progress.percent')),
                      items.map((item) => h('th', { scope: 'col' }, item.title)),
                    ),
                  ),
                  rows,
                ),
              )
            : h('p', null, t('progress.none')),
          more,
        )
      }
      rows.append(...found.learners.map(row))
      total += found.learners.length
      next = found.next
      more.hidden = !next
      if (again) {
        announce(t('progress.loaded', { count: total }))
        if (!next) heading.focus()
      }
    } catch (error) {
      body.setAttribute('aria-busy', 'false')
      fill(body, h('p.error', { role: 'alert' }, readable(error)))
    }
  }

  async function title(): Promise<void> {
    try {
      const course = await api.content.course(courseId)
      heading.textContent = t('progress.heading', { course: course.title })
    } catch {
      // the table reports what went wrong
    }
  }

  heading.tabIndex = -1
  void title()
  void page(false)
  return {
    title: t('progress.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack',
        null,
        h('p', null, h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('coursePage.back'))),
        heading,
        body,
      ),
    ),
  }
}
