// The gradebook setup page for instructors (/courses/{id}/gradebook/setup): the grading
// settings (weighted groups or points, how a missing grade counts), the assignment groups
// (add, rename, weight, drop lowest/highest, extra credit, reorder, delete), which group
// each graded item is in, and the letter-grade scheme. After every change the page reloads
// the structure and the learners' final grades as the server now computes them (the same
// computation as the grid and the learners' own grades page) and says so in a live region.

import * as api from '../api'
import { fill, h } from '../dom'
import { t } from '../i18n'
import type { Navigate, Page } from '../main'
import { gradebook, readable, type Row, type SchemeEntry, type Structure } from './gradebookApi'
import { type GroupCalls, groupsSection, itemsSection } from './gradebookGroups'
import { topbar } from './shell'

function settingsSection(structure: Structure, change: (fields: Parameters<typeof gradebook.settings>[1], done: string) => Promise<void>): HTMLElement {
  const weighted = h('input#setup-weighted', { type: 'checkbox', checked: structure.settings.weighted, 'data-key': 'weighted' })
  const missing = h(
    'select#setup-missing',
    { 'data-key': 'missing' },
    h('option', { value: 'zero', selected: structure.settings.missing_policy === 'zero' }, t('setup.missingZero')),
    h('option', { value: 'ungraded', selected: structure.settings.missing_policy === 'ungraded' }, t('setup.missingUngraded')),
  )
  weighted.addEventListener('change', () => void change({ weighted: weighted.checked }, weighted.checked ? t('setup.nowWeighted') : t('setup.nowPoints')))
  missing.addEventListener('change', () => void change({ missing_policy: missing.value as 'zero' | 'ungraded' }, t('setup.missingSaved')))
  return h(
    'section.stack',
    { 'aria-labelledby': 'setup-settings' },
    h('h2#setup-settings', null, t('setup.settings')),
    h('label.choice', null, weighted, ' ', t('setup.weighted')),
    h('div.form-grid', null, h('label', { for: 'setup-missing' }, t('setup.missing')), missing),
  )
}

function schemeSection(scheme: SchemeEntry[], change: (fields: Parameters<typeof gradebook.settings>[1], done: string) => Promise<void>): HTMLElement {
  const body = h('tbody')
  const addRow = (entry: SchemeEntry): void => {
    const index = body.childElementCount + 1
    const letter = h('input', { type: 'text', value: entry.name, maxLength: 10, required: true, 'aria-label': t('setup.letterN', { number: index }), 'data-field': 'name', autocomplete: 'off' })
    const min = h('input', { type: 'number', value: entry.min, min: 0, max: 100, step: 'any', inputMode: 'decimal', required: true, 'aria-label': t('setup.minN', { number: index }), 'data-field': 'min' })
    const row: HTMLTableRowElement = h(
      'tr',
      null,
      h('td', null, letter),
      h('td', null, min),
      h('td', null, h('button', { type: 'button', onclick: () => { row.remove(); status.textContent = t('setup.letterRemoved', { number: index }) } }, t('setup.removeLetter', { number: index }))),
    )
    body.appendChild(row)
  }
  const status = h('p.sr-only', { role: 'status' })
  for (const entry of scheme) addRow(entry)
  const read = (): SchemeEntry[] =>
    [...body.querySelectorAll('tr')].map((tr) => ({
      name: tr.querySelector<HTMLInputElement>('[data-field="name"]')?.value.trim() ?? '',
      min: tr.querySelector<HTMLInputElement>('[data-field="min"]')?.value.trim() ?? '',
    }))
  return h(
    'section.stack',
    { 'aria-labelledby': 'setup-scheme' },
    h('h2#setup-scheme', null, t('setup.scheme')),
    h('p.muted', null, t('setup.schemeHint')),
    h(
      'form.stack',
      {
        onsubmit: (event: Event) => {
          event.preventDefault()
          void change({ scheme: read() }, t('setup.schemeSaved'))
        },
      },
      h('div.table-scroll', null, h('table', null, h('caption.sr-only', null, t('setup.scheme')), h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('setup.letter')), h('th', { scope: 'col' }, t('setup.min')), h('th', { scope: 'col' }, h('span.sr-only', null, t('setup.actions'))))), body)),
      h('div.row.wrap', null,
        h('button', { type: 'button', onclick: () => { addRow({ name: '', min: '0' }); (body.lastElementChild?.querySelector('input') as HTMLInputElement | null)?.focus() } }, t('setup.addLetter')),
        h('button.primary', { type: 'submit', 'data-key': 'save-scheme' }, t('setup.saveScheme')),
        h('button', { type: 'button', 'data-key': 'default-scheme', onclick: () => void change({ default_scheme: true }, t('setup.schemeDefault')) }, t('setup.defaultScheme')),
      ),
      status,
    ),
  )
}

function finalSection(rows: Row[]): HTMLElement {
  return h(
    'section.stack',
    { 'aria-labelledby': 'setup-final' },
    h('h2#setup-final', null, t('setup.finals')),
    rows.length
      ? h(
          'div.table-scroll',
          null,
          h(
            'table',
            { 'data-testid': 'final-grades' },
            h('caption.sr-only', null, t('setup.finals')),
            h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('gradebook.student')), h('th', { scope: 'col' }, t('gradebook.final')), h('th', { scope: 'col' }, t('gradebook.letter')))),
            h(
              'tbody',
              null,
              rows.map((row) =>
                h('tr', { 'data-student': row.student.id }, h('th', { scope: 'row' }, row.student.name), h('td', null, row.grades.percent === null ? '–' : `${row.grades.percent}%`), h('td', null, row.grades.letter ?? '–')),
              ),
            ),
          ),
        )
      : h('p.muted', null, t('gradebook.none')),
  )
}

export function gradebookSetupPage(courseId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', { tabIndex: -1 }, t('setup.title'))
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('gradebook.loading')))
  const status = h('p.save-status', { role: 'status', 'data-testid': 'setup-status' })

  async function change(call: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await call()
      await load()
      status.textContent = t('setup.recomputed', { done })
    } catch (error) {
      status.textContent = readable(error)
      await load()
    }
  }

  const settingsChange = (fields: Parameters<typeof gradebook.settings>[1], done: string): Promise<void> => change(() => gradebook.settings(courseId, fields), done)
  const calls: GroupCalls = {
    add: (fields) => gradebook.addGroup(courseId, fields),
    change: (groupId, fields) => gradebook.changeGroup(courseId, groupId, fields),
    remove: (groupId) => gradebook.removeGroup(courseId, groupId),
    move: (columnId, groupId) => gradebook.moveColumn(courseId, columnId, groupId),
  }

  async function learners(): Promise<Row[]> {
    let cursor: string | null = null
    let all: Row[] = []
    do {
      const page = await gradebook.grid(courseId, cursor)
      all = all.concat(page.rows)
      cursor = page.next
    } while (cursor)
    return all.sort((a, b) => a.student.name.localeCompare(b.student.name) || a.student.id.localeCompare(b.student.id))
  }

  async function load(): Promise<void> {
    // The control that had focus is found again by its key after the page is redrawn.
    const focusKey = (document.activeElement as HTMLElement | null)?.dataset?.key ?? null
    try {
      const [structure, rows] = await Promise.all([gradebook.structure(courseId), learners()])
      body.setAttribute('aria-busy', 'false')
      fill(
        body,
        settingsSection(structure, settingsChange),
        groupsSection(structure.groups, structure.settings.weighted, calls, change),
        itemsSection(structure.columns, structure.groups, calls, change),
        schemeSection(structure.settings.scheme ?? [], settingsChange),
        finalSection(rows),
      )
      const again = focusKey ? body.querySelector<HTMLElement>(`[data-key="${focusKey}"]`) : null
      if (again && !(again as HTMLButtonElement).disabled) again.focus()
      else if (focusKey) heading.focus()
    } catch (error) {
      body.setAttribute('aria-busy', 'false')
      fill(body, h('p.error', { role: 'alert' }, readable(error)))
    }
  }

  void api.content
    .course(courseId)
    .then((course) => {
      heading.textContent = t('setup.heading', { course: course.title })
      document.title = t('app.titleSuffix', { title: heading.textContent })
    })
    .catch(() => undefined)
  void load()
  return {
    title: t('setup.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack.gradebook-setup',
        null,
        h('p.row.wrap', null, h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('coursePage.back')), h('a', { href: `/courses/${courseId}/gradebook`, 'data-link': '' }, t('setup.toGradebook'))),
        heading,
        status,
        body,
      ),
    ),
  }
}
