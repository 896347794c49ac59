// The grading view (SpeedGrader-like): the learners of an assignment in a sortable table
// with their state, one learner's submission (text rendered, PDFs in the browser's viewer
// through the signed link, images inline, other files as downloads), comments anchored to
// a selected range of the text, the rubric to click, the score and "Submit grade".
// Alt+ArrowDown / Alt+ArrowUp (or the buttons) move to the next / previous learner. While
// the assignment is anonymous the server sends "Student N" labels and no identities.

import * as api from '../api'
import { announce, fill, h } from '../dom'
import { formatDateTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { type Assignment, assignments, type Detail, type Entry, type Rubric, type Submission } from './assignmentApi'
import { topbar } from './shell'

function readable(error: unknown): string {
  return error instanceof api.ApiError ? error.readable : error instanceof Error ? error.message : String(error)
}

type SortKey = 'label' | 'state' | 'submitted_at' | 'score'

export function gradingPage(courseId: string, assignmentId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', { tabIndex: -1 }, t('grading.title'))
  const tools = h('div.row.wrap')
  const table = h('div', { 'aria-busy': 'true' }, h('p.muted', null, t('assignment.loading')))
  const panel = h('section.stack', { 'aria-labelledby': 'learner-heading', 'data-testid': 'grading-panel' })
  let row: Assignment | null = null
  let rubric: Rubric | null = null
  let entries: Entry[] = []
  let current = -1
  let sort: SortKey = 'label'
  let ascending = true

  async function load(): Promise<void> {
    try {
      row = await assignments.get(assignmentId)
      heading.textContent = t('grading.heading', { title: row.title })
      document.title = t('app.titleSuffix', { title: heading.textContent })
      const [listing, found] = await Promise.all([assignments.grading(assignmentId), row.rubric_id ? assignments.rubrics(courseId) : null])
      rubric = found?.items.find((r) => r.id === row?.rubric_id) ?? null
      entries = listing.entries
      const course = await api.content.course(courseId)
      fill(
        tools,
        course.my_role === 'instructor' && listing.anonymous
          ? h('button', { type: 'button', onclick: () => void act(() => assignments.reveal(assignmentId), t('grading.revealed')) }, t('grading.reveal'))
          : null,
        course.my_role === 'instructor'
          ? h('button', { type: 'button', onclick: () => void act(async () => assignments.post(assignmentId), t('grading.posted')) }, t('grading.post'))
          : null,
      )
      table.setAttribute('aria-busy', 'false')
      drawTable()
      if (current >= 0 && current < entries.length) await open(current)
    } catch (error) {
      table.setAttribute('aria-busy', 'false')
      fill(table, h('p.error', { role: 'alert' }, readable(error)))
    }
  }

  async function act(call: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await call()
      announce(done)
      await load()
    } catch (error) {
      announce(readable(error), 'assertive')
    }
  }

  function sorted(): Entry[] {
    const value = (e: Entry): string | number => (sort === 'score' ? Number(e.score ?? -1) : (e[sort] ?? ''))
    return [...entries].sort((a, b) => (value(a) < value(b) ? -1 : value(a) > value(b) ? 1 : 0) * (ascending ? 1 : -1))
  }

  function drawTable(): void {
    entries = sorted()
    const header = (key: SortKey, label: string) =>
      h(
        'th',
        { scope: 'col', 'aria-sort': sort === key ? (ascending ? 'ascending' : 'descending') : 'none' },
        h('button.link', { type: 'button', onclick: () => { ascending = sort === key ? !ascending : true; sort = key; drawTable() } }, label),
      )
    fill(
      table,
      h(
        'div.table-wrap',
        { tabIndex: 0, role: 'region', 'aria-label': t('grading.learners') },
        h(
          'table',
          { 'data-testid': 'grading-table' },
          h('caption', null, t('grading.learners')),
          h('thead', null, h('tr', null, header('label', t('grading.learner')), header('state', t('grading.state')), header('submitted_at', t('grading.submittedAt')), header('score', t('grading.score')))),
          h(
            'tbody',
            null,
            entries.map((e, i) =>
              h(
                'tr',
                { 'aria-current': i === current ? 'true' : null },
                h('td', null, h('button.link', { type: 'button', onclick: () => void open(i) }, e.label)),
                h('td', null, t(`grading.state.${e.state}`), e.late ? ` · ${t('assignment.late')}` : ''),
                h('td', null, e.submitted_at ? formatDateTime(e.submitted_at) : '—'),
                h('td', null, e.score ?? '—'),
              ),
            ),
          ),
        ),
      ),
    )
  }

  async function open(index: number): Promise<void> {
    if (index < 0 || index >= entries.length) return
    current = index
    drawTable()
    const entry = entries[index]
    try {
      const detail = await assignments.detail(assignmentId, entry.key)
      showDetail(detail)
      announce(t('grading.showing', { label: entry.label, n: index + 1, total: entries.length }))
    } catch (error) {
      fill(panel, h('p.error', { role: 'alert' }, readable(error)))
    }
  }

  function showDetail(detail: Detail): void {
    const latest = detail.submissions[0] ?? null
    const nav = h(
      'div.row.wrap',
      null,
      h('button', { type: 'button', 'aria-keyshortcuts': 'Alt+ArrowUp', disabled: current <= 0, onclick: () => void open(current - 1) }, t('grading.previous')),
      h('button', { type: 'button', 'aria-keyshortcuts': 'Alt+ArrowDown', disabled: current >= entries.length - 1, onclick: () => void open(current + 1) }, t('grading.next')),
    )
    fill(
      panel,
      h('h2#learner-heading', { tabIndex: -1 }, detail.entry.label),
      nav,
      latest ? submission(latest) : h('p.muted', null, t('grading.noSubmission')),
      latest ? comments(latest, detail) : null,
      gradeForm(detail),
    )
  }

  function submission(sub: Submission): HTMLElement {
    const rendered = h('div.page-body.card')
    if (sub.html !== null) rendered.innerHTML = sub.html // rendered and sanitized by the server
    const files = sub.files.map((f) => {
      const slot = h('div.stack')
      const button = h('button', { type: 'button', onclick: async () => {
        const link = await assignments.link(sub.id, f.id)
        const tab = h('a', { href: link.url, target: '_blank', rel: 'noopener' }, t('grading.openTab', { name: f.name }))
        if (f.content_type === 'application/pdf') fill(slot, h('iframe', { src: link.url, title: f.name, width: '100%', height: '480' }), tab)
        else if (f.content_type.startsWith('image/')) fill(slot, h('img', { src: link.url, alt: f.name, style: 'max-width:100%' }))
        else fill(slot, h('a', { href: link.url, download: f.name }, t('grading.download', { name: f.name })))
      } }, t('grading.preview', { name: f.name }))
      return h('li.stack', null, button, slot)
    })
    return h(
      'div.stack',
      { 'data-testid': 'submission' },
      h('p.muted', null, t('assignment.version', { version: sub.version, when: formatDateTime(sub.submitted_at) }), sub.late ? ` · ${t('assignment.late')}` : ''),
      sub.html !== null ? rendered : null,
      sub.text !== null ? h('details', null, h('summary', null, t('grading.source')), h('pre#submission-source', { tabIndex: 0 }, sub.text)) : null,
      files.length ? h('ul', { 'aria-label': t('assignment.files') }, files) : null,
    )
  }

  function comments(sub: Submission, detail: Detail): HTMLElement {
    const input = h('textarea#comment-body', { rows: 2 }) as HTMLTextAreaElement
    const mine = detail.comments.filter((c) => c.submission_id === sub.id)
    const quote = (start: number | null, end: number | null) => (start !== null && end !== null && sub.text ? `“${sub.text.slice(start, end)}” ` : '')
    return h(
      'form.stack',
      {
        'aria-label': t('grading.comments'),
        onsubmit: async (event: Event) => {
          event.preventDefault()
          const range = selectedRange(sub)
          try {
            await assignments.comment(sub.id, { body: input.value, ...range })
            announce(t('grading.commented'))
            await open(current)
          } catch (error) {
            announce(readable(error), 'assertive')
          }
        },
      },
      h('ul', { 'data-testid': 'comments' }, mine.map((c) => h('li', null, quote(c.start, c.end), c.body))),
      h('label', { for: 'comment-body' }, t('grading.comment')),
      input,
      h('p.small.muted', null, t('grading.anchorHint')),
      h('button', { type: 'submit' }, t('grading.addComment')),
    )
  }

  function selectedRange(sub: Submission): { start?: number; end?: number } {
    const selection = window.getSelection()
    const source = document.getElementById('submission-source')
    if (!selection || selection.isCollapsed || !source || !sub.text || !source.contains(selection.anchorNode)) return {}
    const text = selection.toString()
    const start = sub.text.indexOf(text)
    return start < 0 ? {} : { start, end: start + text.length }
  }

  function gradeForm(detail: Detail): HTMLElement {
    // The levels chosen before, those the rubric (maybe edited since) still has: grading
    // again with a changed rubric drops what was removed from it.
    const chosen: Record<string, string> = Object.fromEntries(
      Object.entries(detail.grade?.rubric ?? {}).filter(([c, level]) => rubric?.criteria.some((k) => k.id === c && k.levels.some((l) => l.id === level))),
    )
    const score = h('input#grade-score', { type: 'text', inputMode: 'decimal', value: detail.grade?.raw_score ?? '' }) as HTMLInputElement
    const groups = (rubric?.criteria ?? []).map((c) =>
      h(
        'fieldset',
        null,
        h('legend', null, c.description),
        c.long_description ? h('p.small.muted', null, c.long_description) : null,
        c.levels.map((level) =>
          h(
            'label.row',
            null,
            h('input', {
              type: 'radio',
              id: `criterion-${c.id}-${level.id}`,
              name: `criterion-${c.id}`,
              value: level.id,
              checked: chosen[c.id] === level.id,
              onchange: () => {
                chosen[c.id] = level.id
                score.value = ''
              },
            }),
            `${level.title} (${level.points})`,
            level.description ? h('span.small.muted', null, ` — ${level.description}`) : null,
          ),
        ),
      ),
    )
    // A group assignment: the grade goes to the whole group, or to this member alone
    // (Canvas's "assign grades to each student individually").
    const alone = h('input#grade-alone', { type: 'radio', name: 'grade-whom', value: 'alone', checked: detail.grade?.individual === true })
    const whom = row?.group_set_id
      ? h(
          'fieldset',
          { 'data-testid': 'grade-whom' },
          h('legend', null, t('grading.whom')),
          h('label.row', null, h('input#grade-group', { type: 'radio', name: 'grade-whom', value: 'group', checked: detail.grade?.individual !== true }), t('grading.wholeGroup')),
          h('label.row', null, alone, t('grading.alone', { label: detail.entry.label })),
        )
      : null
    const status = h('p', { role: 'status', 'data-testid': 'grade-status' }, detail.grade ? t('grading.current', { score: detail.grade.score ?? '—', days: detail.grade.late_days }) : '')
    return h(
      'form.card.stack',
      {
        'aria-label': t('grading.gradeForm'),
        onsubmit: async (event: Event) => {
          event.preventDefault()
          try {
            const body = { rubric: chosen, ...(score.value.trim() ? { score: score.value.trim() } : {}), ...(whom ? { whole_group: !alone.checked } : {}) }
            const done = await assignments.grade(assignmentId, detail.entry.key, body)
            entries[current] = done.entry
            // A whole group's grade changed the other members' rows too.
            if (whom && !alone.checked) entries = (await assignments.grading(assignmentId)).entries
            drawTable()
            status.textContent = whom ? t(alone.checked ? 'grading.savedAlone' : 'grading.savedGroup', { score: done.grade?.score ?? '—' }) : t('grading.saved', { score: done.grade?.score ?? '—' })
          } catch (error) {
            status.textContent = readable(error)
          }
        },
      },
      groups,
      h('label', { for: 'grade-score' }, t('grading.scoreOverride', { points: row?.points ?? '' })),
      score,
      whom,
      h('button.primary', { type: 'submit' }, t('grading.submit')),
      status,
    )
  }

  function onKey(event: KeyboardEvent): void {
    if (!event.altKey || (event.key !== 'ArrowDown' && event.key !== 'ArrowUp')) return
    if (!document.body.contains(panel)) return document.removeEventListener('keydown', onKey)
    event.preventDefault()
    void open(current + (event.key === 'ArrowDown' ? 1 : -1)).then(() => document.getElementById('learner-heading')?.focus())
  }
  document.addEventListener('keydown', onKey)

  void load()
  return {
    title: t('grading.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack',
        null,
        h('p', null, h('a', { href: `/courses/${courseId}/assignments/${assignmentId}`, 'data-link': '' }, t('grading.back'))),
        heading,
        h('p.small.muted', null, t('grading.keys')),
        tools,
        table,
        panel,
      ),
    ),
  }
}
