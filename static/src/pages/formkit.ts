// Labelled form fields with their own error line, and a problem document's `errors` mapped
// onto them: each error goes to the field whose key is the longest prefix of its path
// (`definition.choices.1.text` -> the field `choices.1.text`, else `choices`, ...); what
// matches no field is listed in the form's summary. The summary is an alert, so the errors
// are announced, and focus moves to the first field in error.

import * as api from '../api'
import { h } from '../dom'
import { t } from '../i18n'

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement

let counter = 0

/** A fresh element id with ``prefix``. */
export function uid(prefix: string): string {
  counter += 1
  return `${prefix}-${counter}`
}

interface Slot {
  control: Control | HTMLElement
  error: HTMLElement
}

export class FormErrors {
  readonly summary = h('div.form-errors', { role: 'alert', 'data-testid': 'form-errors' })
  private slots = new Map<string, Slot>()

  /** Register ``control`` under ``key`` (a path below the body, e.g. ``choices.0.text``). */
  attach(key: string, control: Control | HTMLElement, error: HTMLElement): void {
    this.slots.set(key, { control, error })
  }

  forget(prefix: string): void {
    for (const key of [...this.slots.keys()]) if (key === prefix || key.startsWith(`${prefix}.`)) this.slots.delete(key)
  }

  clear(): void {
    this.summary.replaceChildren()
    for (const slot of this.slots.values()) {
      slot.error.textContent = ''
      slot.error.hidden = true
      slot.control.removeAttribute('aria-invalid')
    }
  }

  /** Show ``error`` (a problem, or anything else as a single message); ``strip`` is the
   * body prefix the fields' keys leave out (``definition.`` for a question). */
  show(error: unknown, strip: string[] = []): void {
    this.clear()
    if (!(error instanceof api.ApiError)) {
      this.summary.append(h('p.error', null, error instanceof Error ? error.message : String(error)))
      return
    }
    const loose: string[] = []
    let first: Slot | null = null
    for (const item of error.fields as { field?: string; message?: string; msg?: string }[]) {
      let path = (item.field ?? '').replace(/^body\./, '')
      for (const prefix of strip) if (path === prefix || path.startsWith(`${prefix}.`)) path = path.slice(prefix.length + 1)
      const message = item.message ?? item.msg ?? ''
      const slot = this.find(path)
      if (!slot) {
        loose.push(path ? `${path}: ${message}` : message)
        continue
      }
      slot.error.textContent = slot.error.textContent ? `${slot.error.textContent} ${message}` : message
      slot.error.hidden = false
      slot.control.setAttribute('aria-invalid', 'true')
      first ??= slot
    }
    const count = error.fields.length
    this.summary.append(h('p.error', null, count ? t('form.errorCount', { count }) : error.readable))
    if (loose.length) this.summary.append(h('ul', null, loose.map((line) => h('li', null, line))))
    first?.control.focus()
  }

  private find(path: string): Slot | null {
    const parts = path.split('.')
    for (let n = parts.length; n > 0; n--) {
      const slot = this.slots.get(parts.slice(0, n).join('.'))
      if (slot) return slot
    }
    return null
  }
}

/** A labelled field: the label, the control, an optional hint and the error line, linked by
 * ``for`` and ``aria-describedby``; registered in ``errors`` under ``key`` when given. */
export function field(label: string, control: Control, options: { key?: string; errors?: FormErrors; hint?: string; inline?: boolean } = {}): HTMLElement {
  if (!control.id) control.id = uid('f')
  const error = h('p.field-error', { id: `${control.id}-error`, hidden: true })
  const hint = options.hint ? h('p.small.muted', { id: `${control.id}-hint` }, options.hint) : null
  control.setAttribute('aria-describedby', [hint?.id, error.id].filter(Boolean).join(' '))
  if (options.key && options.errors) options.errors.attach(options.key, control, error)
  if (options.inline) return h('div.field.inline', null, h('label', { for: control.id }, control, ' ', label), hint, error)
  return h('div.field', null, h('label', { for: control.id }, label), control, hint, error)
}

/** A group of controls (a fieldset with its legend) registered as one field. */
export function group(legend: string, content: HTMLElement | HTMLElement[], options: { key?: string; errors?: FormErrors; hint?: string } = {}): HTMLElement {
  const id = uid('g')
  const error = h('p.field-error', { id: `${id}-error`, hidden: true })
  const box = h('fieldset.group', { id, 'aria-describedby': error.id, tabIndex: -1 }, h('legend', null, legend), options.hint ? h('p.small.muted', null, options.hint) : null, content, error)
  if (options.key && options.errors) options.errors.attach(options.key, box, error)
  return box
}

export function textInput(value = '', attrs: Record<string, unknown> = {}): HTMLInputElement {
  return h('input', { type: 'text', autocomplete: 'off', value, ...attrs })
}

export function numberInput(value: number | string | null | undefined, attrs: Record<string, unknown> = {}): HTMLInputElement {
  return h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', value: value === null || value === undefined ? '' : String(value), ...attrs })
}

export function textArea(value = '', rows = 3, attrs: Record<string, unknown> = {}): HTMLTextAreaElement {
  const area = h('textarea', { rows, ...attrs })
  area.value = value
  return area
}

export function checkbox(checked: boolean, attrs: Record<string, unknown> = {}): HTMLInputElement {
  return h('input', { type: 'checkbox', checked, ...attrs })
}

export function select(options: [string, string][], value: string, attrs: Record<string, unknown> = {}): HTMLSelectElement {
  return h('select', attrs, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)))
}

/** Lines of a textarea, trimmed, empty ones dropped. */
export function lines(area: HTMLTextAreaElement): string[] {
  return area.value
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
}

/** A number typed in ``input``, or null when empty; the text itself when not a number (the
 * server then names the field). */
export function numberOf(input: HTMLInputElement): number | string | null {
  const text = input.value.trim()
  if (!text) return null
  const value = Number(text.replace(',', '.'))
  return Number.isFinite(value) ? value : text
}
