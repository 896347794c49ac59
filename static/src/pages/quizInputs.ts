// One input per question type, built from the key-free student view; each reads back the
// answer in the view's tokens (what PUT /attempts/{id}/answers takes).

import { fill, h } from '../dom'
import { UploadRow } from './files'
import { t } from '../i18n'
import type { Answer, QuestionView, ViewItem } from './quizApi'

export interface QuestionInput {
  el: HTMLElement
  read: () => Answer | null
}

function items(view: QuestionView, field: string): ViewItem[] {
  return (view[field] as ViewItem[] | undefined) ?? []
}

function choiceGroup(name: string, label: string, options: { value: string; text: string }[], multiple: boolean, chosen: string[], onChange: () => void): HTMLElement {
  return h(
    'fieldset.choices',
    null,
    h('legend.sr-only', null, label),
    options.map((o) =>
      h(
        'label.choice',
        null,
        h('input', { type: multiple ? 'checkbox' : 'radio', name, value: o.value, checked: chosen.includes(o.value), onchange: onChange }),
        ' ',
        o.text,
      ),
    ),
  )
}

function checked(root: HTMLElement): string[] {
  return [...root.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value)
}

function text(label: string, value: string, onChange: () => void, long = false): HTMLInputElement | HTMLTextAreaElement {
  const attrs = { 'aria-label': label, value, oninput: onChange }
  if (!long) return h('input', { type: 'text', autocomplete: 'off', ...attrs })
  const area = h('textarea', { rows: 8, 'aria-label': label, oninput: onChange })
  area.value = value
  return area
}

/** Where a file-upload answer's uploads go: the course, and the attempt they are for. */
export interface UploadTarget {
  courseId: string
  attemptId: string
}

interface FileRef {
  file_id: string
  content_type: string
  size: number
}

/** A file-upload answer: files uploaded with the files page's tus widget (resumable, with
 * progress), naming the attempt so the server takes them; the answer lists their ids. */
function fileInput(view: QuestionView, answer: Answer, label: string, onChange: () => void, target?: UploadTarget): QuestionInput {
  const files = [...((answer.files as FileRef[] | undefined) ?? [])]
  const names = new Map<string, string>()
  const list = h('ul.plain.stack.tight', { 'aria-label': t('quiz.filesHandedIn') })
  const draw = (): void => {
    fill(
      list,
      files.map((f, index) => {
        const name = names.get(f.file_id) ?? t('quiz.fileNumber', { number: index + 1 })
        const remove = (): void => {
          files.splice(index, 1)
          draw()
          onChange()
        }
        return h('li.row', null, h('span.grow', null, name), h('button', { type: 'button', 'aria-label': t('quiz.removeFile', { name }), onclick: remove }, '×'))
      }),
    )
  }
  const uploads = h('ul.plain.stack')
  const allowed = (view.allowed_types as string[] | undefined) ?? []
  const most = Number(view.max_files ?? 1)
  const input = h('input', {
    type: 'file',
    'aria-label': t('quiz.chooseFile', { label }),
    accept: allowed.join(','),
    multiple: most > 1,
    disabled: !target,
    onchange: () => {
      for (const file of [...(input.files ?? [])]) {
        if (!target) break
        const handedIn = (fileId: number | null): void => {
          if (fileId === null) return
          names.set(String(fileId), file.name)
          files.push({ file_id: String(fileId), content_type: file.type || 'application/octet-stream', size: file.size })
          draw()
          onChange()
        }
        void UploadRow.create(file, target.courseId, handedIn, { attempt: target.attemptId }).then((row) => {
          uploads.append(row.el)
          return row.start()
        })
      }
      input.value = ''
    },
  })
  draw()
  return {
    el: h('div.stack', null, input, uploads, list),
    read: () => ({ files: files.map(({ file_id, content_type, size }) => ({ file_id, content_type, size })) }),
  }
}

export function questionInput(id: string, view: QuestionView, answer: Answer | null, label: string, onChange: () => void, target?: UploadTarget): QuestionInput {
  const a = answer ?? {}
  switch (view.type) {
    case 'single_choice':
    case 'multiple_choice': {
      const multiple = view.type === 'multiple_choice'
      const chosen = multiple ? ((a.choices as string[] | undefined) ?? []) : a.choice ? [String(a.choice)] : []
      const options = items(view, 'choices').map((c) => ({ value: c.token, text: c.text }))
      const el = choiceGroup(`q-${id}`, label, options, multiple, chosen, onChange)
      return { el, read: () => (multiple ? { choices: checked(el) } : checked(el).length ? { choice: checked(el)[0] } : null) }
    }
    case 'true_false': {
      const chosen = a.answer === undefined || a.answer === null ? [] : [String(a.answer)]
      const options = [
        { value: 'true', text: t('quiz.true') },
        { value: 'false', text: t('quiz.false') },
      ]
      const el = choiceGroup(`q-${id}`, label, options, false, chosen, onChange)
      return { el, read: () => (checked(el).length ? { answer: checked(el)[0] === 'true' } : null) }
    }
    case 'numeric':
    case 'short_answer': {
      const input = text(label, String(a.answer ?? ''), onChange)
      return { el: input, read: () => ({ answer: input.value }) }
    }
    case 'math': {
      const input = text(label, String(a.expression ?? ''), onChange)
      return { el: input, read: () => ({ expression: input.value }) }
    }
    case 'essay': {
      const input = text(label, String(a.text ?? ''), onChange, true)
      return { el: input, read: () => ({ text: input.value }) }
    }
    case 'python_code': {
      const input = text(label, String(a.code ?? view.starter_code ?? ''), onChange, true)
      input.classList.add('code')
      return { el: input, read: () => ({ code: input.value }) }
    }
    case 'ordering': {
      const order = (a.order as string[] | undefined) ?? items(view, 'items').map((i) => i.token)
      const byToken = new Map(items(view, 'items').map((i) => [i.token, i.text]))
      const list = h('ol.ordering', { 'aria-label': label })
      const draw = (): void => {
        list.replaceChildren(
          ...order.map((token, index) =>
            h(
              'li.row',
              { 'data-token': token },
              h('span.grow', null, byToken.get(token) ?? token),
              h('button', { type: 'button', disabled: index === 0, 'aria-label': t('quiz.moveUp', { item: byToken.get(token) ?? '' }), onclick: () => move(index, -1) }, '↑'),
              h('button', { type: 'button', disabled: index === order.length - 1, 'aria-label': t('quiz.moveDown', { item: byToken.get(token) ?? '' }), onclick: () => move(index, 1) }, '↓'),
            ),
          ),
        )
      }
      const move = (index: number, by: number): void => {
        ;[order[index], order[index + by]] = [order[index + by], order[index]]
        draw()
        list.querySelectorAll<HTMLButtonElement>('li')[index + by]?.querySelector<HTMLButtonElement>(by < 0 ? 'button' : 'button:last-child')?.focus()
        onChange()
      }
      draw()
      return { el: list, read: () => ({ order: [...order] }) }
    }
    case 'matching': {
      const matches = (a.matches as Record<string, string> | undefined) ?? {}
      const options = items(view, 'options')
      const rows = items(view, 'prompts').map((p) => {
        const select = h('select', { 'aria-label': p.text, onchange: onChange }, h('option', { value: '' }, t('quiz.pick')), options.map((o) => h('option', { value: o.token, selected: matches[p.token] === o.token }, o.text)))
        return { token: p.token, el: h('label.row', null, h('span.grow', null, p.text), select), select }
      })
      const el = h('div.stack', null, rows.map((r) => r.el))
      return { el, read: () => ({ matches: Object.fromEntries(rows.filter((r) => r.select.value).map((r) => [r.token, r.select.value])) }) }
    }
    case 'fill_blanks': {
      const given = (a.answers as Record<string, string> | undefined) ?? {}
      const fields: { token: string; input: HTMLInputElement | HTMLSelectElement }[] = []
      const segments = (view.segments as { text?: string; blank?: string; options?: ViewItem[] | null }[] | undefined) ?? []
      const el = h(
        'p.blanks',
        null,
        segments.map((s, index) => {
          if (s.blank === undefined) return s.text ?? ''
          const name = t('quiz.blank', { number: fields.length + 1 })
          const input = s.options
            ? h('select', { 'aria-label': name, onchange: onChange }, h('option', { value: '' }, t('quiz.pick')), s.options.map((o) => h('option', { value: o.token, selected: given[s.blank ?? ''] === o.token }, o.text)))
            : h('input', { type: 'text', 'aria-label': name, value: given[s.blank] ?? '', oninput: onChange, size: 12, 'data-index': index })
          fields.push({ token: s.blank, input })
          return input
        }),
      )
      return { el, read: () => ({ answers: Object.fromEntries(fields.filter((f) => f.input.value).map((f) => [f.token, f.input.value])) }) }
    }
    case 'file_upload':
      return fileInput(view, a, label, onChange, target)
    default:
      return { el: h('p.muted', null, t('quiz.notHere')), read: () => null }
  }
}
