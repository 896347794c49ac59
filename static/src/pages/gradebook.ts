// The gradebook grid for instructors and TAs: students by columns with their flags and the
// computed current and final grade (as the server computes them). An ARIA grid: one cell
// is in the tab order, arrow keys (and Home/End) move, Enter edits a score, Enter saves and
// Escape cancels. The panel beside it shows the selected grade: its flags, posting of its
// column and its history. CSV export, and import with a preview of every change.

import * as api from '../api'
import { announce, download, fill, h } from '../dom'
import { formatDateTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { type Cell, type Column, type Grid, type Row, gradebook, readable } from './gradebookApi'
import { importPanel } from './gradebookImport'
import { topbar } from './shell'

function cellText(cell: Cell | undefined): string {
  if (!cell) return ''
  if (cell.excused) return t('gradebook.excusedShort')
  return cell.score ?? ''
}

function flags(cell: Cell | undefined, column: Column): HTMLElement[] {
  if (!cell) return []
  const out: HTMLElement[] = []
  if (cell.missing) out.push(h('span.badge', null, t('gradebook.missing')))
  if (cell.late) out.push(h('span.badge', null, t('gradebook.late')))
  if (!cell.posted && column.post_policy === 'manual' && (cell.score !== null || cell.excused)) {
    out.push(h('span.badge.muted', null, t('gradebook.hidden')))
  }
  return out
}

function percent(value: string | null): string {
  return value === null ? '–' : `${value}%`
}

export function gradebookPage(courseId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', { tabindex: -1 }, t('gradebook.title'))
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('gradebook.loading')))
  const details = h('section.panel.stack.gradebook-details', { 'aria-labelledby': 'gradebook-details-title' })
  let grid: Grid | null = null
  let active = { row: 0, col: 0 } // col 0 is the student's name; 1..n the columns
  let editing: HTMLInputElement | null = null

  const columns = (): Column[] => grid?.structure.columns ?? []
  const rows = (): Row[] => grid?.rows ?? []

  async function load(keep = false): Promise<void> {
    try {
      let cursor: string | null = null
      let all: Row[] = []
      let found: Grid
      do {
        found = await gradebook.grid(courseId, cursor)
        all = all.concat(found.rows)
        cursor = found.next
      } while (cursor)
      all.sort((a, b) => a.student.name.localeCompare(b.student.name) || a.student.id.localeCompare(b.student.id))
      grid = { ...found, rows: all }
      body.setAttribute('aria-busy', 'false')
      render(keep)
    } catch (error) {
      body.setAttribute('aria-busy', 'false')
      fill(body, h('p.error', { role: 'alert' }, readable(error)))
    }
  }

  function gridCell(rowIndex: number, colIndex: number): HTMLElement | null {
    return body.querySelector<HTMLElement>(`[data-row="${rowIndex}"][data-col="${colIndex}"]`)
  }

  function moveTo(rowIndex: number, colIndex: number, focus = true): void {
    const maxRow = rows().length - 1
    const maxCol = columns().length
    active = { row: Math.max(0, Math.min(maxRow, rowIndex)), col: Math.max(0, Math.min(maxCol, colIndex)) }
    for (const el of body.querySelectorAll<HTMLElement>('[data-row]')) el.tabIndex = -1
    const target = gridCell(active.row, active.col)
    if (!target) return
    target.tabIndex = 0
    if (focus) target.focus()
    showDetails()
  }

  function startEdit(target: HTMLElement): void {
    const row = rows()[active.row]
    const column = columns()[active.col - 1]
    if (!row || !column || editing) return
    const cell = row.cells[column.id]
    const input = h('input.grade-input', {
      type: 'text',
      inputmode: 'decimal',
      value: cell?.score ?? '',
      'aria-label': t('gradebook.scoreLabel', { student: row.student.name, column: column.title }),
    })
    editing = input
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault()
        void save(row, column, input.value.trim())
      } else if (event.key === 'Escape') {
        event.preventDefault()
        editing = null
        render(true)
        announce(t('gradebook.cancelled'))
      }
      event.stopPropagation()
    })
    fill(target, input)
    input.focus()
    input.select()
  }

  async function save(row: Row, column: Column, text: string): Promise<void> {
    const cell = row.cells[column.id]
    try {
      await gradebook.grade(courseId, column.id, row.student.id, {
        score: text === '' ? null : text,
        ...(cell ? { expect: cell.state } : {}),
      })
      editing = null
      await load(true)
      announce(
        text === ''
          ? t('gradebook.cleared', { student: row.student.name, column: column.title })
          : t('gradebook.saved', { student: row.student.name, column: column.title, score: text }),
      )
    } catch (error) {
      announce(readable(error), 'assertive')
      editing?.focus()
    }
  }

  function onKey(event: KeyboardEvent): void {
    const target = event.target as HTMLElement
    if (!target.dataset.row || editing) return
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    }
    if (event.key in moves) {
      const [dr, dc] = moves[event.key]
      moveTo(active.row + dr, active.col + dc)
    } else if (event.key === 'Home') {
      moveTo(event.ctrlKey ? 0 : active.row, 0)
    } else if (event.key === 'End') {
      moveTo(event.ctrlKey ? rows().length - 1 : active.row, columns().length)
    } else if (event.key === 'Enter' && active.col > 0 && active.col <= columns().length) {
      startEdit(target)
    } else {
      return
    }
    event.preventDefault()
  }

  function render(keep: boolean): void {
    if (!grid) return
    if (!rows().length) {
      fill(body, h('p', null, t('gradebook.none')), tools())
      return
    }
    const cols = columns()
    const table = h(
      'table.table.gradebook-grid',
      { role: 'grid', 'aria-labelledby': 'gradebook-grid-label', 'aria-rowcount': rows().length + 1, onkeydown: onKey },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, t('gradebook.student')),
          cols.map((c) =>
            h(
              'th',
              { scope: 'col', 'data-column-id': c.id },
              h('span.col-title', null, c.title),
              h('span.muted.small', null, ` ${t('gradebook.points', { points: c.points_possible })}`),
              c.post_policy === 'manual' ? h('span.muted.small', null, ` · ${t('gradebook.manualPolicy')}`) : null,
            ),
          ),
          h('th', { scope: 'col' }, t('gradebook.current')),
          h('th', { scope: 'col' }, t('gradebook.final')),
          h('th', { scope: 'col' }, t('gradebook.letter')),
        ),
      ),
      h(
        'tbody',
        null,
        rows().map((row, r) =>
          h(
            'tr',
            { 'data-student-id': row.student.id },
            h('th', { scope: 'row', role: 'rowheader', tabindex: -1, 'data-row': r, 'data-col': 0, onclick: () => moveTo(r, 0) }, row.student.name),
            cols.map((c, i) =>
              h(
                'td',
                {
                  role: 'gridcell',
                  tabindex: -1,
                  'data-row': r,
                  'data-col': i + 1,
                  'data-column-id': c.id,
                  onclick: () => moveTo(r, i + 1),
                  ondblclick: (event: Event) => startEdit(event.currentTarget as HTMLElement),
                },
                h('span.grade-value', null, cellText(row.cells[c.id])),
                flags(row.cells[c.id], c),
              ),
            ),
            h('td', { 'data-testid': 'current' }, percent(row.grades.current.percent),
              row.grades.override !== null ? h('span.badge', null, t('gradebook.override', { percent: percent(row.grades.override) })) : null),
            h('td', { 'data-testid': 'final' }, percent(row.grades.final.percent)),
            h('td', { 'data-testid': 'letter' }, row.grades.letter ?? '–'),
          ),
        ),
      ),
    )
    fill(
      body,
      h('p#gradebook-grid-label.muted', null, t('gradebook.gridLabel')),
      cols.length ? null : h('p', null, t('gradebook.noColumns')),
      h('div.table-wrap.gradebook-wrap', null, table),
      h('div.gradebook-side', null, details),
      tools(),
    )
    moveTo(active.row, active.col, keep)
  }

  function showDetails(): void {
    const row = rows()[active.row]
    const column = columns()[active.col - 1]
    if (row && active.col === 0) {
      fill(details, ...overrideForm(row))
      return
    }
    if (!row || !column) {
      fill(details, h('h2#gradebook-details-title', null, t('gradebook.details')), h('p.muted', null, t('gradebook.pickCell')))
      return
    }
    const cell = row.cells[column.id]
    const history = h('div.stack', { 'aria-live': 'polite' })
    const flag = (name: 'excused' | 'missing' | 'late', label: string): HTMLElement =>
      h(
        'label.row',
        null,
        h('input', {
          type: 'checkbox',
          checked: Boolean(cell?.[name]),
          onchange: async (event: Event) => {
            const checked = (event.target as HTMLInputElement).checked
            try {
              await gradebook.grade(courseId, column.id, row.student.id, { [name]: checked, ...(cell ? { expect: cell.state } : {}) })
              await load(false)
              announce(`${label}: ${checked ? '✓' : '–'}`)
            } catch (error) {
              announce(readable(error), 'assertive')
            }
          },
        }),
        label,
      )
    fill(
      details,
      h('h2#gradebook-details-title', null, t('gradebook.detailsOf', { student: row.student.name, column: column.title })),
      h('fieldset.row.wrap', null, h('legend.sr-only', null, t('gradebook.details')),
        flag('excused', t('gradebook.excused')), flag('missing', t('gradebook.missing')), flag('late', t('gradebook.late'))),
      h(
        'div.row.wrap',
        null,
        h('button', {
          type: 'button',
          onclick: async () => {
            try {
              const done = await gradebook.post(courseId, column.id)
              await load(false)
              announce(t('gradebook.posted', { count: done.length, column: column.title }))
            } catch (error) {
              announce(readable(error), 'assertive')
            }
          },
        }, t('gradebook.postColumn', { column: column.title })),
        column.post_policy === 'manual'
          ? h('button', {
              type: 'button',
              onclick: async () => {
                try {
                  await gradebook.hide(courseId, column.id)
                  await load(false)
                  announce(t('gradebook.hiddenNow', { column: column.title }))
                } catch (error) {
                  announce(readable(error), 'assertive')
                }
              },
            }, t('gradebook.hideColumn', { column: column.title }))
          : null,
        h('button', {
          type: 'button',
          onclick: async () => {
            try {
              const found = await gradebook.history(courseId, column.id, row.student.id)
              fill(
                history,
                h('h3', null, t('gradebook.historyTitle')),
                found.items.length
                  ? h('ol.history', { 'data-testid': 'cell-history' }, found.items.map((c) =>
                      h('li', null, t('gradebook.change', {
                        when: formatDateTime(c.at),
                        old: describe(c.old),
                        new: describe(c.new),
                        reason: c.reason,
                      }))))
                  : h('p.muted', null, t('gradebook.noHistory')),
              )
            } catch (error) {
              fill(history, h('p.error', { role: 'alert' }, readable(error)))
            }
          },
        }, t('gradebook.showHistory')),
      ),
      history,
    )
  }

  function overrideForm(row: Row): HTMLElement[] {
    const percentInput = h('input#override-percent', {
      type: 'number',
      min: 0,
      max: 1000,
      step: '0.01',
      inputmode: 'decimal',
      value: row.grades.override ?? '',
    })
    const reasonInput = h('input#override-reason', { type: 'text', maxlength: 500, 'aria-required': 'true' })
    const status = h('p', { role: 'status' })
    async function send(percent: string | null): Promise<void> {
      const reason = reasonInput.value.trim()
      if (!reason) {
        status.textContent = t('gradebook.overrideReasonNeeded')
        reasonInput.focus()
        return
      }
      try {
        await gradebook.override(courseId, row.student.id, percent, reason)
        await load(false)
        announce(percent === null ? t('gradebook.overrideRemoved') : t('gradebook.overrideSaved', { percent: `${percent}%` }))
      } catch (error) {
        status.textContent = readable(error)
      }
    }
    return [
      h('h2#gradebook-details-title', null, t('gradebook.overrideOf', { student: row.student.name })),
      h('p', null, t('gradebook.computed', { percent: percent(row.grades.current.percent) })),
      h(
        'form.stack',
        {
          onsubmit: (event: Event) => {
            event.preventDefault()
            void send(percentInput.value.trim() || null)
          },
        },
        h('label', { for: 'override-percent' }, t('gradebook.overridePercent')),
        percentInput,
        h('label', { for: 'override-reason' }, t('gradebook.overrideReason')),
        reasonInput,
        h(
          'div.row.wrap',
          null,
          h('button.primary', { type: 'submit' }, t('gradebook.overrideSave')),
          row.grades.override !== null
            ? h('button', { type: 'button', onclick: () => void send(null) }, t('gradebook.overrideRemove'))
            : null,
        ),
        status,
      ),
    ]
  }

  function tools(): HTMLElement {
    return h(
      'section.stack',
      { 'aria-labelledby': 'gradebook-tools' },
      h('h2#gradebook-tools.sr-only', null, t('gradebook.csvTools')),
      h('div.row.wrap', null,
        h('button', {
          type: 'button',
          onclick: async () => {
            try {
              download(`grades-${courseId}.csv`, await gradebook.exportCsv(courseId), 'text/csv')
            } catch (error) {
              announce(readable(error), 'assertive')
            }
          },
        }, t('gradebook.exportCsv')),
        h('a.button', { href: `/courses/${courseId}/gradebook/setup`, 'data-link': '', 'data-testid': 'setup-link' }, t('gradebook.setupLink'))),
      importPanel(courseId, () => load(false)),
    )
  }

  async function title(): Promise<void> {
    try {
      const course = await api.content.course(courseId)
      heading.textContent = t('gradebook.heading', { course: course.title })
    } catch {
      // the grid reports what went wrong
    }
  }

  void title()
  void load(false)
  return {
    title: t('gradebook.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack.gradebook-page',
        null,
        h('p', null, h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('coursePage.back'))),
        heading,
        body,
      ),
    ),
  }
}

function describe(value: Record<string, unknown>): string {
  if ('posted' in value) return value.posted ? t('gradebook.postedState') : t('gradebook.hidden')
  if ('percent' in value) return value.percent === null ? '–' : `${String(value.percent)}%`
  const parts = [value.excused ? t('gradebook.excusedShort') : value.score === null ? '–' : String(value.score)]
  if (value.missing) parts.push(t('gradebook.missing'))
  if (value.late) parts.push(t('gradebook.late'))
  return parts.join(' ')
}
