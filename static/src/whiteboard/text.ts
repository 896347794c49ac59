// Typing on the board: new text and sticky notes, and editing their text in place, in a
// textarea laid over the shape (committed on blur, Escape or Ctrl+Enter).

import { h } from '../dom'
import { t } from '../i18n'
import type { Box, Shape } from './model'
import { measureText } from './render'
import type { BoardState } from './state'
import { round, STICKY_COLORS } from './tools'

/** Called with the id of the shape a new text or note became (null: nothing was added). */
type Added = (id: string | null) => void

export class TextEditing {
  private editing: { textarea: HTMLTextAreaElement; commit: (refocus?: boolean) => void } | null = null

  /** The editor is laid over ``canvas``, which gets the focus back when editing ends. */
  constructor(
    private readonly state: BoardState,
    private readonly canvas: HTMLElement,
  ) {}

  /** Whether a text is being edited. */
  get active(): boolean {
    return this.editing !== null
  }

  /** End the edit in progress, keeping what was typed. */
  commit(): void {
    this.editing?.commit()
  }

  /** Start a text shape at (``bx``, ``by``); it is added once something was typed. */
  newText(bx: number, by: number, added?: Added): void {
    this.openEditor({ x: bx, y: by, w: 240, h: 40 }, '', 20, false, (text) => {
      if (!text.trim() || !this.state.model) return added?.(null)
      const size = measureText(text, 20)
      const id = this.state.model.add({ type: 'text', x: round(bx), y: round(by), w: size.w, h: size.h, text, fontSize: 20, stroke: this.state.color, page: this.state.page })
      added?.(id)
    })
  }

  /** Add a sticky note centred at (``bx``, ``by``) and start editing it. */
  newSticky(bx: number, by: number, added?: Added): void {
    const model = this.state.model
    if (!model) return added?.(null)
    const id = model.add({
      type: 'sticky',
      x: round(bx - 100),
      y: round(by - 80),
      w: 200,
      h: 160,
      text: '',
      fontSize: 18,
      fill: STICKY_COLORS[this.state.color] ?? '#fff176',
      stroke: '#1f2937',
      page: this.state.page,
    })
    const shape = model.get(id)
    if (shape) this.editText(shape, () => added?.(model.get(id) ? id : null))
  }

  /** Edit the text of a text shape (emptied: removed) or a sticky note. */
  editText(shape: Shape, edited?: () => void): void {
    const box = { x: shape.x, y: shape.y, w: Math.max(shape.w ?? 200, 120), h: Math.max(shape.h ?? 40, 40) }
    this.openEditor(box, shape.text ?? '', shape.fontSize ?? 20, shape.type === 'sticky', (text) => {
      const model = this.state.model
      if (!model || !model.get(shape.id)) return edited?.()
      if (shape.type === 'text') {
        if (!text.trim()) model.remove([shape.id])
        else model.update(shape.id, { text, ...measureText(text, shape.fontSize ?? 20) })
      } else {
        model.update(shape.id, { text })
      }
      edited?.()
    }, shape.fill ?? undefined)
  }

  private openEditor(box: Box, text: string, fontSize: number, sticky: boolean, done: (text: string) => void, background?: string): void {
    this.commit()
    const { view } = this.state
    const zoom = view.zoom
    const textarea = h('textarea.board-text', {
      'aria-label': t(sticky ? 'whiteboard.text.sticky' : 'whiteboard.text.text'),
      placeholder: t(sticky ? 'whiteboard.text.stickyPlaceholder' : 'whiteboard.text.textPlaceholder'),
      style: [
        `left:${view.x + box.x * zoom}px`,
        `top:${view.y + box.y * zoom}px`,
        `width:${box.w * zoom}px`,
        `height:${box.h * zoom}px`,
        `font-size:${fontSize * zoom}px`,
        sticky ? `padding:${8 * zoom}px;background:${background ?? '#fff176'}` : `color:${this.state.color}`,
      ].join(';'),
    })
    textarea.value = text
    let finished = false
    // Focus goes back to the board when the edit ends with a key or a click on the board,
    // not when it ends because focus moved elsewhere (Tab, the outline, the toolbar).
    const commit = (refocus = true): void => {
      if (finished) return
      finished = true
      this.editing = null
      const value = textarea.value
      const hadFocus = document.activeElement === textarea
      textarea.remove()
      done(value)
      if (refocus && hadFocus) this.canvas.focus({ preventScroll: true })
    }
    textarea.addEventListener('keydown', (event) => {
      event.stopPropagation()
      if (event.key === 'Escape' || (event.key === 'Enter' && (event.ctrlKey || event.metaKey))) {
        event.preventDefault()
        commit()
      }
    })
    textarea.addEventListener('blur', () => commit(false))
    this.editing = { textarea, commit }
    this.canvas.appendChild(textarea)
    window.setTimeout(() => textarea.focus(), 0)
  }
}
