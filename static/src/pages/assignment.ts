// An assignment for a student: the instructions (published course page), the due and lock
// dates in the reader's time zone, handing in text and/or files (the course's tus upload
// widget), the history of versions, and the grade with rubric and comments once posted.
// Staff see the same page with links to the instructions' editor and the grading view.

import * as api from '../api'
import { announce, fill, h } from '../dom'
import { formatDateTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { type Assignment, assignments, type Mine, type Submission } from './assignmentApi'
import { UploadRow } from './files'
import { topbar } from './shell'

function readable(error: unknown): string {
  return error instanceof api.ApiError ? error.readable : error instanceof Error ? error.message : String(error)
}

/** A submission's body: the sanitized HTML the server rendered, and its files. */
export function submissionView(sub: Submission, preview: (fileId: number) => void): HTMLElement {
  const body = h('div.page-body')
  if (sub.html !== null) body.innerHTML = sub.html // rendered and sanitized by the server
  return h(
    'div.stack',
    null,
    sub.html !== null ? body : null,
    sub.files.length
      ? h('ul', { 'aria-label': t('assignment.files') }, sub.files.map((f) => h('li', null, h('button.link', { type: 'button', onclick: () => preview(f.id) }, f.name))))
      : null,
  )
}

export function assignmentPage(courseId: string, assignmentId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', { tabIndex: -1 }, t('assignment.title'))
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('assignment.loading')))

  async function load(): Promise<void> {
    try {
      const [course, row] = await Promise.all([api.content.course(courseId), assignments.get(assignmentId)])
      heading.textContent = row.title
      document.title = t('app.titleSuffix', { title: row.title })
      const staff = course.my_role === 'instructor' || course.my_role === 'ta'
      const parts: (HTMLElement | null)[] = [dates(row), instructions(row)]
      if (staff) parts.push(staffLinks(row, course.my_role === 'instructor'))
      else parts.push(...(await studentParts(row)))
      body.setAttribute('aria-busy', 'false')
      fill(body, ...parts)
    } catch (error) {
      body.setAttribute('aria-busy', 'false')
      fill(body, h('p.error', { role: 'alert' }, readable(error)))
    }
  }

  function dates(row: Assignment): HTMLElement {
    const due = row.my_due_at ?? row.due_at
    const lock = row.my_lock_at ?? row.lock_at
    return h(
      'dl.card',
      null,
      h('dt', null, t('assignment.points')),
      h('dd', null, row.points),
      h('dt', null, t('assignment.due')),
      h('dd', { 'data-testid': 'due' }, due ? formatDateTime(due) : t('assignment.noDue')),
      lock ? h('dt', null, t('assignment.lock')) : null,
      lock ? h('dd', null, formatDateTime(lock)) : null,
      Number(row.late_policy.per_day) > 0 ? h('dt', null, t('assignment.latePolicy')) : null,
      Number(row.late_policy.per_day) > 0 ? h('dd', null, t('assignment.lateRule', { perDay: row.late_policy.per_day, cap: row.late_policy.cap })) : null,
    )
  }

  function instructions(row: Assignment): HTMLElement {
    const article = h('article.page-body.card', { 'aria-label': t('assignment.instructions') })
    if (row.instructions_html) article.innerHTML = row.instructions_html // sanitized by the server
    else article.append(h('p.muted', null, t('assignment.noInstructions')))
    return article
  }

  function staffLinks(row: Assignment, instructor: boolean): HTMLElement {
    return h(
      'p.row.wrap',
      null,
      h('a.button.primary', { href: `/courses/${courseId}/assignments/${row.id}/grading`, 'data-link': '' }, t('assignment.grade')),
      instructor ? h('a.button', { href: `/courses/${courseId}/assignments/${row.id}/edit`, 'data-link': '' }, t('assignment.settings')) : null,
      instructor && row.page_id ? h('a.button', { href: `/courses/${courseId}/pages/${row.page_id}/edit`, 'data-link': '' }, t('assignment.editInstructions')) : null,
    )
  }

  async function preview(sub: Submission, fileId: number): Promise<void> {
    const link = await assignments.link(sub.id, fileId)
    window.open(link.url, '_blank', 'noopener')
  }

  async function studentParts(row: Assignment): Promise<HTMLElement[]> {
    const mine = await assignments.mine(row.id)
    return [submitForm(row), history(mine), result(mine)]
  }

  function submitForm(row: Assignment): HTMLElement {
    const status = h('p', { role: 'status', 'data-testid': 'submit-status' })
    const files: number[] = []
    const text = row.submission_types.includes('text')
      ? (h('textarea#submission-text', { rows: 8, maxLength: row.max_text_chars }) as HTMLTextAreaElement)
      : null
    const uploads = h('ul.stack.uploads', { 'aria-label': t('assignment.uploads') })
    const picker = row.submission_types.includes('file')
      ? (h('input#submission-files', {
          type: 'file',
          multiple: true,
          accept: row.allowed_extensions.map((e) => `.${e}`).join(','),
          onchange: (event: Event) => {
            const input = event.target as HTMLInputElement
            for (const file of [...(input.files ?? [])]) {
              void UploadRow.create(file, courseId, (id) => id && files.push(id), { assignment: row.id }).then((upload) => {
                uploads.append(upload.el)
                return upload.start()
              })
            }
            input.value = ''
          },
        }) as HTMLInputElement)
      : null
    let key = crypto.randomUUID()
    const button = h('button.primary', { type: 'submit' }, t('assignment.submit')) as HTMLButtonElement
    const form = h(
      'form.card.stack',
      {
        'aria-labelledby': 'submit-heading',
        onsubmit: async (event: Event) => {
          event.preventDefault()
          button.disabled = true
          try {
            const made = await assignments.submit(row.id, { text: text?.value || undefined, file_ids: [...files] }, key)
            key = crypto.randomUUID() // the next click is a new version
            status.textContent = t('assignment.submitted', { version: made.version, when: formatDateTime(made.submitted_at) })
            void load()
          } catch (error) {
            status.textContent = readable(error)
            announce(readable(error), 'assertive')
          } finally {
            button.disabled = false
          }
        },
      },
      h('h2#submit-heading', null, t('assignment.handIn')),
      text ? h('label', { for: 'submission-text' }, t('assignment.text')) : null,
      text,
      picker ? h('label', { for: 'submission-files' }, t('assignment.chooseFiles')) : null,
      picker,
      uploads,
      button,
      status,
    )
    return form
  }

  function history(mine: Mine): HTMLElement {
    return h(
      'section.stack',
      { 'aria-labelledby': 'history-heading' },
      h('h2#history-heading', null, t('assignment.history')),
      mine.submissions.length === 0
        ? h('p.muted', null, t('assignment.none'))
        : h(
            'ol.stack',
            { 'data-testid': 'history' },
            mine.submissions.map((s) =>
              h(
                'li.card.stack',
                null,
                h('strong', null, t('assignment.version', { version: s.version, when: formatDateTime(s.submitted_at) }), s.late ? ` · ${t('assignment.late')}` : ''),
                submissionView(s, (id) => void preview(s, id)),
              ),
            ),
          ),
    )
  }

  function result(mine: Mine): HTMLElement {
    const grade = mine.grade
    if (!grade) return h('p.muted', { 'data-testid': 'grade' }, t('assignment.notPosted'))
    const chosen = mine.rubric?.criteria.map((c) => {
      const level = c.levels.find((l) => l.id === grade.rubric[c.id])
      return h('li', null, `${c.description}: ${level ? `${level.title} (${level.points})` : '—'}`)
    })
    return h(
      'section.card.stack',
      { 'aria-labelledby': 'grade-heading' },
      h('h2#grade-heading', null, t('assignment.yourGrade')),
      h('p', { 'data-testid': 'grade' }, t('assignment.score', { score: grade.score ?? '—' })),
      grade.late_days > 0 ? h('p', null, t('assignment.lateDeduction', { days: grade.late_days, points: grade.late_deduction })) : null,
      chosen?.length ? h('ul', { 'aria-label': t('assignment.rubric') }, chosen) : null,
      mine.comments.length ? h('ul', { 'aria-label': t('assignment.comments') }, mine.comments.map((c) => h('li', null, c.body))) : null,
    )
  }

  void load()
  return {
    title: t('assignment.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h('main#main.page.stack.reading', null, h('p', null, h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('coursePage.back'))), heading, body),
    ),
  }
}
