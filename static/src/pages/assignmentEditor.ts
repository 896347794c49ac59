// The assignment editor for instructors: settings (points, dates entered in the editor's
// time zone and sent in UTC, submission types, file extensions and size, late policy,
// anonymous grading, the rubric), the rubric editor (./rubricEditor: a course rubric edited
// or a new one made and attached), and per-student extensions. The instructions
// are a course page: the link opens the collaborative page editor.

import * as api from '../api'
import { announce, fill, h } from '../dom'
import { formatDateTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { type Assignment, type AssignmentChanges, assignments, type Rubric } from './assignmentApi'
import { rubricEditor } from './rubricEditor'
import { topbar } from './shell'

function readable(error: unknown): string {
  return error instanceof api.ApiError ? error.readable : error instanceof Error ? error.message : String(error)
}

/** An ISO instant as a datetime-local value in this browser's time zone. */
function local(iso: string | null): string {
  if (!iso) return ''
  const d = new Date(iso)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

function utc(value: string): string | null {
  return value ? new Date(value).toISOString() : null
}

function field(id: string, label: string, input: HTMLElement, hint?: string): HTMLElement {
  if (hint) input.setAttribute('aria-describedby', `${id}-hint`)
  return h('div.field', null, h('label', { for: id }, label), input, hint ? h('p.small.muted', { id: `${id}-hint` }, hint) : null)
}

export function assignmentEditorPage(courseId: string, assignmentId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', { tabIndex: -1 }, t('editor.title'))
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('assignment.loading')))

  async function load(): Promise<void> {
    try {
      const [row, rubrics, roster] = await Promise.all([
        assignments.get(assignmentId),
        assignments.rubrics(courseId),
        assignments.roster(courseId),
      ])
      heading.textContent = t('editor.heading', { title: row.title })
      document.title = t('app.titleSuffix', { title: heading.textContent })
      const students = roster.filter((e) => e.role === 'student')
      const names = new Map(students.map((s) => [s.user_id, s.name]))
      await showExtensions(names)
      body.setAttribute('aria-busy', 'false')
      fill(
        body,
        h(
          'p.row.wrap',
          null,
          row.page_id ? h('a.button', { href: `/courses/${courseId}/pages/${row.page_id}/edit`, 'data-link': '' }, t('assignment.editInstructions')) : null,
          h('a.button', { href: `/courses/${courseId}/assignments/${row.id}`, 'data-link': '' }, t('editor.view')),
          h('a.button', { href: `/courses/${courseId}/assignments/${row.id}/grading`, 'data-link': '' }, t('assignment.grade')),
        ),
        settings(row, rubrics.items),
        rubricEditor({
          courseId,
          assignmentId: row.id,
          rubrics: rubrics.items,
          selected: row.rubric_id,
          onSaved: (saved, attached) => {
            if (!rubricSelect) return
            const label = `${saved.title} (${saved.points})`
            const option = [...rubricSelect.options].find((o) => o.value === saved.id)
            if (option) option.textContent = label
            else rubricSelect.append(h('option', { value: saved.id }, label))
            if (attached) rubricSelect.value = saved.id
          },
        }),
        h(
          'section.card.stack',
          { 'aria-labelledby': 'ext-heading' },
          h('h2#ext-heading', null, t('editor.extensions')),
          extensionList,
          extensionForm(row, students, names),
        ),
      )
    } catch (error) {
      body.setAttribute('aria-busy', 'false')
      fill(body, h('p.error', { role: 'alert' }, readable(error)))
    }
  }

  let rubricSelect: HTMLSelectElement | null = null
  const extensionList = h('div')

  async function save(call: () => Promise<unknown>, done: string, status: HTMLElement): Promise<void> {
    try {
      await call()
      status.textContent = done
      announce(done)
    } catch (error) {
      status.textContent = readable(error)
    }
  }

  async function showExtensions(names: Map<string, string>): Promise<void> {
    const extensions = await assignments.extensions(assignmentId)
    fill(
      extensionList,
      extensions.length
        ? h('ul', { 'data-testid': 'extensions' }, extensions.map((e) => h('li', null, t('editor.extensionOf', { name: names.get(e.user_id) ?? e.user_id, due: e.due_at ? formatDateTime(e.due_at) : '—', lock: e.lock_at ? formatDateTime(e.lock_at) : '—' }))))
        : h('p.muted', null, t('editor.noExtensions')),
    )
  }

  function settings(row: Assignment, rubrics: Rubric[]): HTMLElement {
    const title = h('input#a-title', { value: row.title, required: true, maxlength: 200 }) as HTMLInputElement
    const points = h('input#a-points', { value: row.points, inputMode: 'decimal' }) as HTMLInputElement
    const published = h('input#a-published', { type: 'checkbox', checked: row.published }) as HTMLInputElement
    const from = h('input#a-from', { type: 'datetime-local', value: local(row.available_from) }) as HTMLInputElement
    const due = h('input#a-due', { type: 'datetime-local', value: local(row.due_at) }) as HTMLInputElement
    const lock = h('input#a-lock', { type: 'datetime-local', value: local(row.lock_at) }) as HTMLInputElement
    const text = h('input#a-text', { type: 'checkbox', checked: row.submission_types.includes('text') }) as HTMLInputElement
    const file = h('input#a-file', { type: 'checkbox', checked: row.submission_types.includes('file') }) as HTMLInputElement
    const extensions = h('input#a-ext', { value: row.allowed_extensions.join(', ') }) as HTMLInputElement
    const perDay = h('input#a-perday', { value: row.late_policy.per_day, inputMode: 'decimal' }) as HTMLInputElement
    const cap = h('input#a-cap', { value: row.late_policy.cap, inputMode: 'decimal' }) as HTMLInputElement
    const floor = h('input#a-floor', { value: row.late_policy.floor, inputMode: 'decimal' }) as HTMLInputElement
    const anonymous = h('input#a-anon', { type: 'checkbox', checked: row.anonymous }) as HTMLInputElement
    const rubric = h(
      'select#a-rubric',
      null,
      h('option', { value: '' }, t('editor.noRubric')),
      rubrics.map((r) => h('option', { value: r.id, selected: r.id === row.rubric_id }, `${r.title} (${r.points})`)),
    ) as HTMLSelectElement
    rubricSelect = rubric
    const status = h('p', { role: 'status', 'data-testid': 'settings-status' })
    return h(
      'form.card.stack',
      {
        'aria-labelledby': 'settings-heading',
        onsubmit: (event: Event) => {
          event.preventDefault()
          const types = [...(text.checked ? ['text' as const] : []), ...(file.checked ? ['file' as const] : [])]
          const fields: AssignmentChanges = {
            title: title.value.trim(),
            points: points.value.trim(),
            published: published.checked,
            available_from: utc(from.value),
            due_at: utc(due.value),
            lock_at: utc(lock.value),
            submission_types: types,
            allowed_extensions: extensions.value.split(',').map((e) => e.trim().replace(/^\./, '').toLowerCase()).filter(Boolean),
            late_policy: { per_day: perDay.value.trim() || '0', cap: cap.value.trim() || '100', floor: floor.value.trim() || '0' },
            rubric_id: rubric.value || null,
            anonymous: anonymous.checked,
          }
          void save(() => assignments.update(row.id, fields), t('editor.saved'), status)
        },
      },
      h('h2#settings-heading', null, t('editor.settings')),
      field('a-title', t('editor.titleField'), title),
      field('a-points', t('assignment.points'), points),
      h('label.check', { for: 'a-published' }, published, t('editor.published')),
      field('a-from', t('editor.availableFrom'), from, t('editor.timeZone', { zone: Intl.DateTimeFormat().resolvedOptions().timeZone })),
      field('a-due', t('assignment.due'), due),
      field('a-lock', t('assignment.lock'), lock),
      h('fieldset', null, h('legend', null, t('editor.types')), h('label.check', { for: 'a-text' }, text, t('editor.typeText')), h('label.check', { for: 'a-file' }, file, t('editor.typeFile'))),
      field('a-ext', t('editor.extensionsField'), extensions, t('editor.extensionsHint')),
      h('fieldset', null, h('legend', null, t('assignment.latePolicy')), field('a-perday', t('editor.perDay'), perDay), field('a-cap', t('editor.cap'), cap), field('a-floor', t('editor.floor'), floor)),
      h('label.check', { for: 'a-anon' }, anonymous, t('editor.anonymous')),
      field('a-rubric', t('assignment.rubric'), rubric),
      h('button.primary', { type: 'submit' }, t('editor.save')),
      status,
    )
  }

  function extensionForm(row: Assignment, students: { user_id: string; name: string }[], names: Map<string, string>): HTMLElement {
    const who = h('select#x-user', null, students.map((s) => h('option', { value: s.user_id }, s.name))) as HTMLSelectElement
    const due = h('input#x-due', { type: 'datetime-local' }) as HTMLInputElement
    const lock = h('input#x-lock', { type: 'datetime-local' }) as HTMLInputElement
    const status = h('p', { role: 'status', 'data-testid': 'extension-status' })
    return h(
      'form.stack',
      {
        'aria-label': t('editor.giveExtension'),
        onsubmit: (event: Event) => {
          event.preventDefault()
          void save(
            async () => {
              await assignments.extend(row.id, who.value, utc(due.value), utc(lock.value))
              await showExtensions(names)
            },
            t('editor.extended'),
            status,
          )
        },
      },
      field('x-user', t('editor.student'), who),
      field('x-due', t('editor.newDue'), due),
      field('x-lock', t('editor.newLock'), lock),
      h('button', { type: 'submit' }, t('editor.giveExtension')),
      status,
    )
  }

  void load()
  return {
    title: t('editor.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h('main#main.page.stack.reading', null, h('p', null, h('a', { href: `/courses/${courseId}/edit`, 'data-link': '' }, t('editor.back'))), heading, body),
    ),
  }
}
