// Tiny DOM helpers: element creation, toasts, dialogs, downloads, the screen reader
// announcer and roving focus for toolbars. No framework.

import { t } from './i18n'

export { readPref, removePref, writePref } from './prefs'

type Child = Node | string | number | null | undefined | false
type Attrs = Record<string, unknown>

/** Create an element: h('button.primary', {onclick, 'aria-label': 'Send'}, 'Send'). */
export function h<K extends keyof HTMLElementTagNameMap>(
  spec: K | `${K}${'.' | '#'}${string}`,
  attrs: Attrs | null = null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const [tagAndId, ...classes] = spec.split('.')
  const [tag, id] = tagAndId.split('#')
  const el = document.createElement(tag as K)
  if (id) el.id = id
  if (classes.length) el.className = classes.join(' ')
  if (attrs) setAttrs(el, attrs)
  append(el, children)
  return el
}

export function setAttrs(el: Element, attrs: Attrs): void {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value as EventListener)
    } else if (key === 'class') {
      el.className = String(value)
    } else if (key === 'dataset' && typeof value === 'object') {
      Object.assign((el as HTMLElement).dataset, value)
    } else if (key === 'value' && 'value' in el) {
      ;(el as HTMLInputElement).value = String(value)
    } else if (key === 'checked' && 'checked' in el) {
      ;(el as HTMLInputElement).checked = Boolean(value)
    } else if (value === true) {
      el.setAttribute(key, '')
    } else {
      el.setAttribute(key, String(value))
    }
  }
}

export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)))
  }
}

/** Replace the children of ``el``. Keyboard focus inside ``el`` stays on the same control
 * in the new content (same ``data-focus-key``, or same tag, label and text), so a panel
 * re-rendered by a live update never drops a keyboard user's place. */
export function fill(el: Element, ...children: (Child | Child[])[]): void {
  const active = document.activeElement
  const key = active instanceof HTMLElement && active !== el && el.contains(active) ? focusKey(active) : null
  const index = key === null ? -1 : sameControls(el, key).indexOf(active as HTMLElement)
  el.replaceChildren()
  append(el, children)
  if (key === null) return
  const matches = sameControls(el, key)
  const next = matches[Math.min(index, matches.length - 1)]
  next?.focus({ preventScroll: true })
}

const FOCUSABLE = 'a[href], button, input, select, textarea, summary, [tabindex]'

function focusKey(el: HTMLElement): string {
  return el.dataset.focusKey ?? `${el.tagName}|${el.getAttribute('aria-label') ?? ''}|${el.textContent ?? ''}`
}

function sameControls(root: Element, key: string): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => focusKey(el) === key)
}

/** SVG element. */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | null | undefined> = {},
  ...children: (SVGElement | null)[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(key, String(value))
  }
  for (const child of children) if (child) el.appendChild(child)
  return el
}

export function toast(text: string, kind: 'info' | 'error' | 'success' = 'info', ms = 5000): void {
  const box = document.getElementById('toasts')
  if (!box) return
  const item = h('div.toast', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text)
  const close = h('button.icon', { type: 'button', 'aria-label': t('toast.dismiss'), onclick: () => item.remove() }, '×')
  item.appendChild(close)
  box.appendChild(item)
  window.setTimeout(() => item.remove(), ms)
}

/** A modal dialog; resolves true when confirmed. */
export function confirmDialog(title: string, body: string, confirmLabel = t('dialog.ok'), danger = false): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h('dialog.dialog', { 'aria-labelledby': 'dialog-title', 'aria-describedby': 'dialog-body' })
    const done = (value: boolean): void => {
      dialog.close()
      dialog.remove()
      resolve(value)
    }
    append(dialog, [
      h('h2#dialog-title', null, title),
      h('p#dialog-body', null, body),
      h(
        'div.row.end',
        null,
        h('button', { type: 'button', onclick: () => done(false) }, t('dialog.cancel')),
        h('button', { type: 'button', class: danger ? 'danger' : 'primary', onclick: () => done(true) }, confirmLabel),
      ),
    ])
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault()
      done(false)
    })
    document.body.appendChild(dialog)
    dialog.showModal()
  })
}

/** A modal dialog with arbitrary content; returns the dialog (call .close() to dismiss). */
export function modal(title: string, content: Node, onClose?: () => void): HTMLDialogElement {
  const dialog = h('dialog.dialog', { 'aria-label': title })
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
  const close = (): void => {
    dialog.close()
  }
  dialog.addEventListener('close', () => {
    dialog.remove()
    onClose?.()
    if (opener?.isConnected) opener.focus()
  })
  append(dialog, [
    h('div.row.between', null, h('h2', null, title), h('button.icon', { type: 'button', 'aria-label': t('dialog.close'), title: t('dialog.close'), onclick: close }, '×')),
    content,
  ])
  document.body.appendChild(dialog)
  dialog.showModal()
  return dialog
}

export function download(filename: string, data: Blob | string, type = 'text/plain'): void {
  const blob = typeof data === 'string' ? new Blob([data], { type }) : data
  const url = URL.createObjectURL(blob)
  const link = h('a', { href: url, download: filename, hidden: true })
  document.body.appendChild(link)
  link.click()
  link.remove()
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000)
}


export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean)
  return ((parts[0]?.[0] ?? '?') + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase()
}

/** A stable, readable color for a user id (cursors, avatars). */
export function colorFor(id: string): string {
  let hash = 0
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) | 0
  const hue = Math.abs(hash) % 360
  return `hsl(${hue} 70% 40%)`
}

/** An avatar's background: the person's hue, dark enough for white initials (at least 4.5:1). */
export function avatarColor(id: string): string {
  let hash = 0
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) | 0
  const hue = Math.abs(hash) % 360
  return `hsl(${hue} 60% 28%)`
}

/** Say ``text`` to screen readers once, through the page's polite (or assertive) live region. */
export function announce(text: string, politeness: 'polite' | 'assertive' = 'polite'): void {
  const id = politeness === 'polite' ? 'announcer' : 'announcer-urgent'
  let region = document.getElementById(id)
  if (!region) {
    region = h('div.sr-only', { id, 'aria-live': politeness, 'aria-relevant': 'additions', 'data-testid': id })
    document.body.appendChild(region)
  }
  // One element per announcement: screen readers read additions, so nothing is read twice.
  region.appendChild(h('p', null, text))
  while (region.childElementCount > 8) region.firstElementChild?.remove()
}

/**
 * Roving focus (WAI-ARIA toolbar pattern): the items of ``container`` are one Tab stop; the
 * arrow keys, Home and End move between them. Call ``sync()`` after the items change.
 */
export class Roving {
  private current: HTMLElement | null = null

  constructor(
    private readonly container: HTMLElement,
    private readonly selector = 'button, a[href], input, select, summary',
    private readonly orientation: 'horizontal' | 'vertical' | 'both' = 'horizontal',
  ) {
    container.addEventListener('keydown', (event) => this.onKey(event))
    container.addEventListener('focusin', (event) => {
      const item = this.items().find((el) => el === event.target)
      if (item) this.setCurrent(item)
    })
  }

  items(): HTMLElement[] {
    // Items the CSS hides (e.g. on small screens) are skipped, unless the whole container is
    // out of view (a hidden tab panel), when nothing can be measured.
    const measurable = this.container.getClientRects().length > 0
    return [...this.container.querySelectorAll<HTMLElement>(this.selector)].filter(
      (el) => !(el as HTMLButtonElement).disabled && !el.closest('[hidden]') && (!measurable || el.getClientRects().length > 0),
    )
  }

  /** Exactly one item (the last focused, else the first) stays in the Tab order. */
  sync(): void {
    const items = [...this.container.querySelectorAll<HTMLElement>(this.selector)]
    const usable = this.items()
    const keep = this.current && usable.includes(this.current) ? this.current : (usable[0] ?? null)
    for (const el of items) el.tabIndex = el === keep ? 0 : -1
    this.current = keep
  }

  private setCurrent(item: HTMLElement): void {
    this.current = item
    this.sync()
  }

  private onKey(event: KeyboardEvent): void {
    if (event.altKey || event.ctrlKey || event.metaKey) return
    const target = event.target as HTMLElement
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName)) return
    const items = this.items()
    const index = items.indexOf(target)
    if (index < 0) return
    const back = this.orientation === 'vertical' ? ['ArrowUp'] : this.orientation === 'both' ? ['ArrowLeft', 'ArrowUp'] : ['ArrowLeft']
    const forward = this.orientation === 'vertical' ? ['ArrowDown'] : this.orientation === 'both' ? ['ArrowRight', 'ArrowDown'] : ['ArrowRight']
    let next = -1
    if (forward.includes(event.key)) next = (index + 1) % items.length
    else if (back.includes(event.key)) next = (index - 1 + items.length) % items.length
    else if (event.key === 'Home') next = 0
    else if (event.key === 'End') next = items.length - 1
    if (next < 0) return
    event.preventDefault()
    this.setCurrent(items[next])
    items[next].focus()
  }
}

/** Whether keyboard focus is in a text field (so single-key shortcuts stay off). */
export function typingInField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)
}

/** Arrow keys, Home and End move between the tabs of a tablist (WAI-ARIA tabs pattern). */
export function tablistKeys(list: HTMLElement): void {
  list.addEventListener('keydown', (event) => {
    const tabs = [...list.querySelectorAll<HTMLElement>('[role="tab"]')].filter((tab) => !tab.hidden)
    const index = tabs.indexOf(document.activeElement as HTMLElement)
    if (index < 0) return
    const moves: Record<string, number> = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }
    if (!(event.key in moves)) return
    event.preventDefault()
    const next = tabs[(moves[event.key] + tabs.length) % tabs.length]
    next.focus()
    next.click()
  })
}
