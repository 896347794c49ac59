// The keyboard cursor (``state.cursor``): where keys add shapes. Arrow keys move it when
// nothing is selected, and the board pans to keep it on screen; Enter edits the one selected
// text, note or image, or else adds the chosen tool's shape at the cursor.

import { t } from '../i18n'
import type { Announcer } from './announce'
import { describeImage } from './images'
import type { Scene } from './scene'
import type { BoardSelection } from './selection'
import type { BoardState } from './state'
import type { TextEditing } from './text'
import { round, withAlpha } from './tools'
import type { Viewport } from './viewport'

export class KeyCursor {
  constructor(
    private readonly state: BoardState,
    private readonly scene: Scene,
    private readonly canvas: HTMLElement,
    private readonly text: TextEditing,
    private readonly selection: BoardSelection,
    private readonly announcer: Announcer,
    private readonly viewport: Viewport,
  ) {}

  move(dx: number, dy: number): void {
    const cursor = this.state.cursor
    this.state.cursor = { x: round(cursor.x + dx), y: round(cursor.y + dy) }
    this.scene.drawKeyboardCursor()
    this.keepInView()
  }

  /** Pan so the keyboard cursor is on screen (with a margin). */
  keepInView(): void {
    const { cursor } = this.state
    this.viewport.revealBox({ x: cursor.x - 20, y: cursor.y - 20, w: 40, h: 40 })
  }

  /** Enter: edit the one selected text, note or image; else add the tool's shape at the cursor. */
  activate(): void {
    const state = this.state
    const model = state.model
    if (!model) return
    if (state.selection.size === 1) {
      const shape = model.get([...state.selection][0])
      if (shape && !state.readOnly) {
        if (shape.type === 'text' || shape.type === 'sticky') return this.text.editText(shape)
        if (shape.type === 'image') return void describeImage(state, this.canvas, shape)
      }
      return
    }
    const { x, y } = state.cursor
    if (state.tool === 'select') {
      const target = this.scene.hitTop(x, y)
      if (target) this.selection.select([target.id])
      return
    }
    if (state.readOnly) return
    const added = (id: string | null): void => this.selection.added(model, id)
    switch (state.tool) {
      case 'rect':
      case 'ellipse':
        return added(
          model.add({ type: state.tool, x, y, w: 160, h: 100, stroke: state.color, strokeWidth: state.width, fill: state.filled ? withAlpha(state.color) : null, page: state.page }),
        )
      case 'line':
      case 'arrow':
        return added(model.add({ type: state.tool, x, y, points: [[0, 0], [160, 0]], stroke: state.color, strokeWidth: state.width, page: state.page }))
      case 'text':
        return this.text.newText(x, y, added)
      case 'sticky':
        return this.text.newSticky(x + 100, y + 80, added)
      case 'eraser': {
        const target = this.scene.hitTop(x, y)
        if (target) {
          model.remove([target.id])
          this.announcer.say(t('whiteboard.deleted', { count: 1 }))
        }
        return
      }
      default:
        this.announcer.say(t('whiteboard.noKeyShape'))
    }
  }
}
