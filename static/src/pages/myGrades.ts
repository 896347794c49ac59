// A learner's own grades in a course: what is posted, per assignment group (with its
// weight when the course weights groups, and what its drop rules dropped), and the grade
// computed from it as the server does. Nothing not yet posted is shown.

import * as api from '../api'
import { fill, h } from '../dom'
import { t } from '../i18n'
import type { Navigate, Page } from '../main'
import { type MyGrades, gradebook, readable } from './gradebookApi'
import { topbar } from './shell'

function render(mine: MyGrades): HTMLElement[] {
  const total = mine.grades
  const dropped = new Set(total.current.groups.flatMap((g) => g.dropped))
  const out: HTMLElement[] = [
    h(
      'section.panel.stack',
      { 'aria-labelledby': 'my-total' },
      h('h2#my-total', { 'data-testid': 'my-total' },
        total.percent === null ? t('gradebook.mine.noTotal') : t('gradebook.mine.total', { percent: `${total.percent}%`, letter: total.letter ?? '–' })),
      total.final.percent !== null && total.final.percent !== total.percent
        ? h('p.muted', null, t('gradebook.mine.final', { percent: `${total.final.percent}%` }))
        : null,
    ),
  ]
  if (!mine.columns.length) return [...out, h('p', null, t('gradebook.mine.none'))]
  for (const group of mine.groups) {
    const items = mine.columns.filter((c) => c.column.group_id === group.id)
    if (!items.length) continue
    const grade = total.current.groups.find((g) => g.group_id === group.id)
    const id = `group-${group.id}`
    out.push(
      h(
        'section.stack',
        { 'aria-labelledby': id },
        h('h2', { id }, group.name),
        mine.weighted ? h('p.muted', null, t('gradebook.mine.weight', { weight: group.weight })) : null,
        grade?.percent ? h('p', null, t('gradebook.mine.groupTotal', { percent: `${grade.percent}%` })) : null,
        h(
          'div.table-wrap',
          null,
          h(
            'table.table',
            { 'aria-labelledby': id },
            h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('gradebook.mine.item')), h('th', { scope: 'col' }, t('gradebook.mine.score')))),
            h(
              'tbody',
              null,
              items.map(({ column, cell, hidden }) =>
                h(
                  'tr',
                  { 'data-column-id': column.id },
                  h('th', { scope: 'row' }, column.title),
                  h(
                    'td',
                    null,
                    hidden || !cell
                      ? h('span.muted', null, t('gradebook.mine.notPosted'))
                      : cell.excused
                        ? t('gradebook.excused')
                        : cell.score === null
                          ? t('gradebook.empty')
                          : t('gradebook.mine.scoreOf', { score: cell.score, points: column.points_possible }),
                    cell?.missing ? h('span.badge', null, t('gradebook.missing')) : null,
                    cell?.late ? h('span.badge', null, t('gradebook.late')) : null,
                    dropped.has(column.id) ? h('span.badge', null, t('gradebook.mine.dropped')) : null,
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
    )
  }
  return out
}

export function myGradesPage(courseId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', { tabindex: -1 }, t('gradebook.mine.title'))
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('gradebook.loading')))

  async function load(): Promise<void> {
    try {
      const [mine, course] = await Promise.all([gradebook.mine(courseId), api.content.course(courseId)])
      heading.textContent = t('gradebook.mine.heading', { course: course.title })
      fill(body, ...render(mine))
    } catch (error) {
      const text = error instanceof api.ApiError && error.status === 403 ? t('gradebook.mine.notStudent') : readable(error)
      fill(body, h('p.error', { role: 'alert' }, text))
    }
    body.setAttribute('aria-busy', 'false')
  }

  void load()
  return {
    title: t('gradebook.mine.title'),
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
