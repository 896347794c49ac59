// The outline: the current page's shapes as a list, for screen readers and keyboards, kept
// in step with the document item by item (only the shapes a change touched are redrawn, so
// a screen reader's place in the list survives other people's edits). Each item selects its
// shape; texts and sticky notes can be edited there and images described.

import { h } from '../dom'
import { t } from '../i18n'
import { kindInSentence, shapeAt, shapeDetails, shapeTitle } from './describe'
import type { Shape } from './model'
import { measureText } from './render'
import type { BoardState } from './state'

/** What the outline asks of the board; the ``Whiteboard`` implements them. */
export interface OutlineActions {
  /** Select ``id`` (and show it on the board). */
  choose(id: string): void
  remove(id: string): void
}

interface Item {
  li: HTMLLIElement
  button: HTMLButtonElement
  title: HTMLElement
  details: HTMLElement
  field: HTMLTextAreaElement | HTMLInputElement | null
  del: HTMLButtonElement
  z: number
  type: Shape['type']
}

let outlines = 0

export class Outline {
  readonly root: HTMLElement
  private readonly heading: HTMLElement
  private readonly list: HTMLUListElement
  private readonly empty: HTMLElement
  private readonly items = new Map<string, Item>()
  private readonly prefix = `board-outline-${++outlines}`
  /** Changed while hidden: rebuilt when shown. */
  private stale = true

  constructor(
    private readonly state: BoardState,
    private readonly actions: OutlineActions,
  ) {
    this.heading = h('h3.outline-title', { id: `${this.prefix}-title` })
    this.list = h('ul.outline-list', { 'aria-labelledby': `${this.prefix}-title` })
    this.empty = h('p.muted.outline-empty', null, t('whiteboard.outline.empty'))
    this.root = h('div.board-outline', { id: this.prefix, hidden: true, 'data-testid': 'whiteboard-outline' }, this.heading, this.empty, this.list)
  }

  get open(): boolean {
    return !this.root.hidden
  }

  show(open: boolean): void {
    this.root.hidden = !open
    if (open && this.stale) this.rebuild()
  }

  /** Every item again (a page switch, a new document, shown after a while hidden). */
  rebuild(): void {
    if (!this.open) {
      this.stale = true
      return
    }
    this.stale = false
    this.items.clear()
    this.list.replaceChildren()
    const model = this.state.model
    const pageName = model?.pageList().find((p) => p.id === this.state.page)?.name ?? ''
    this.heading.textContent = t('whiteboard.outline.title', { page: pageName })
    for (const shape of model?.list(this.state.page) ?? []) this.list.appendChild(this.create(shape).li)
    this.showSelection()
    this.empty.hidden = this.items.size > 0
  }

  /** Bring the items of ``ids`` in step with the document (added, changed, gone, moved). */
  changed(ids: Iterable<string>): void {
    if (!this.open) {
      this.stale = true
      return
    }
    const model = this.state.model
    for (const id of ids) {
      const shape = model?.get(id) ?? null
      const item = this.items.get(id)
      if (!shape || (shape.page ?? 'default') !== this.state.page) {
        if (item) {
          item.li.remove()
          this.items.delete(id)
        }
        continue
      }
      if (!item) {
        this.place(shape, this.create(shape))
      } else {
        this.update(item, shape)
        if (item.z !== shape.z) {
          item.z = shape.z
          this.place(shape, item)
        }
      }
    }
    this.empty.hidden = this.items.size > 0
  }

  /** Mark the selected shapes' items. */
  showSelection(): void {
    for (const [id, item] of this.items) item.button.setAttribute('aria-pressed', String(this.state.selection.has(id)))
  }

  /** Focus the item of ``id`` (when the outline is open). */
  focus(id: string): void {
    this.items.get(id)?.button.focus()
  }

  /** Put ``item`` where ``shape`` goes in painting order (z, then id). */
  private place(shape: Shape, item: Item): void {
    let before: HTMLLIElement | null = null
    for (const [id, other] of this.items) {
      if (other === item) continue
      if (other.z > shape.z || (other.z === shape.z && id > shape.id)) {
        if (!before || isBefore(other.li, before)) before = other.li
      }
    }
    this.list.insertBefore(item.li, before)
  }

  private create(shape: Shape): Item {
    const title = h('span.outline-name')
    const details = h('span.outline-details')
    const button = h('button.outline-select', { type: 'button', 'aria-pressed': 'false', onclick: () => this.actions.choose(shape.id) }, title, details)
    const del = h('button.small.outline-delete', { type: 'button', onclick: () => this.actions.remove(shape.id) }, t('whiteboard.outline.deleteShort'))
    let field: Item['field'] = null
    if (shape.type === 'text' || shape.type === 'sticky') {
      const area = h('textarea.outline-text', { rows: 2 })
      area.addEventListener('input', () => this.writeText(shape.id, area.value))
      field = area
    } else if (shape.type === 'image') {
      const input = h('input.outline-alt', { type: 'text', maxlength: 1000 })
      input.addEventListener('input', () => this.state.model?.update(shape.id, { alt: input.value }))
      field = input
    }
    const li = h('li.outline-item', { dataset: { id: shape.id, type: shape.type } }, button, field, del)
    const item: Item = { li, button, title, details, field, del, z: shape.z, type: shape.type }
    this.items.set(shape.id, item)
    this.update(item, shape)
    button.setAttribute('aria-pressed', String(this.state.selection.has(shape.id)))
    return item
  }

  private update(item: Item, shape: Shape): void {
    const title = shapeTitle(shape)
    setText(item.title, title)
    setText(item.details, shapeDetails(shape))
    const label = t('whiteboard.outline.delete', { what: title })
    if (item.del.getAttribute('aria-label') !== label) item.del.setAttribute('aria-label', label)
    const field = item.field
    if (!field) return
    const which = t('whiteboard.outline.which', { kind: kindInSentence(shape.type), at: shapeAt(shape.x, shape.y) })
    const fieldLabel = t(shape.type === 'image' ? 'whiteboard.outline.altOf' : 'whiteboard.outline.textOf', { what: which })
    if (field.getAttribute('aria-label') !== fieldLabel) field.setAttribute('aria-label', fieldLabel)
    // Someone typing in the field keeps what they type; others' edits show when they leave it.
    const value = shape.type === 'image' ? (shape.alt ?? '') : (shape.text ?? '')
    if (document.activeElement !== field && field.value !== value) field.value = value
  }

  private writeText(id: string, text: string): void {
    const model = this.state.model
    const shape = model?.get(id)
    if (!model || !shape) return
    if (shape.type === 'text') model.update(id, { text, ...measureText(text, shape.fontSize ?? 20) })
    else model.update(id, { text })
  }
}

function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text
}

function isBefore(a: Node, b: Node): boolean {
  return Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING)
}
