// Tiny DOM helpers: element creation, toasts, dialogs and downloads. No framework.

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

/** Replace the children of ``el``. */
export function fill(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren()
  append(el, children)
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
  const close = h('button.icon', { 'aria-label': 'Dismiss', onclick: () => item.remove() }, '×')
  item.appendChild(close)
  box.appendChild(item)
  window.setTimeout(() => item.remove(), ms)
}

/** A modal dialog; resolves true when confirmed. */
export function confirmDialog(title: string, body: string, confirmLabel = 'OK', danger = false): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h('dialog.dialog', { 'aria-labelledby': 'dialog-title' })
    const done = (value: boolean): void => {
      dialog.close()
      dialog.remove()
      resolve(value)
    }
    append(dialog, [
      h('h2#dialog-title', null, title),
      h('p', null, body),
      h(
        'div.row.end',
        null,
        h('button', { type: 'button', onclick: () => done(false) }, 'Cancel'),
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
  const close = (): void => {
    dialog.close()
  }
  dialog.addEventListener('close', () => {
    dialog.remove()
    onClose?.()
  })
  append(dialog, [
    h('div.row.between', null, h('h2', null, title), h('button.icon', { type: 'button', 'aria-label': 'Close', onclick: close }, '×')),
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

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const date = new Date(iso)
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
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
