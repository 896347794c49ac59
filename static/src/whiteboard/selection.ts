// The selection (``state.selection``) and what is done through it: choosing shapes (by
// pointer, N and Shift+N, Ctrl+A, the outline), moving them with the arrow keys, deleting
// them; each deliberate change is said in the live region.

import { t } from '../i18n'
import type { Announcer } from './announce'
import { shapeTitle } from './describe'
import type { BoardModel, Shape } from './model'
import type { Outline } from './outline'
import type { Scene } from './scene'
import type { BoardState } from './state'
import type { Toolbar } from './toolbar'
import { round } from './tools'
import type { Viewport } from './viewport'

export class BoardSelection {
  constructor(
    private readonly state: BoardState,
    private readonly scene: Scene,
    private readonly toolbar: Toolbar,
    private readonly outline: Outline,
    private readonly announcer: Announcer,
    private readonly viewport: Viewport,
  ) {}

  /** Select ``ids``; ``announce``: say what is selected now (a deliberate change). */
  select(ids: Iterable<string>, announce = true): void {
    const before = this.state.selection
    const next = new Set(ids)
    this.state.selection = next
    this.scene.drawSelection()
    this.toolbar.updateButtons()
    this.outline.showSelection()
    const same = before.size === next.size && [...next].every((id) => before.has(id))
    if (announce && !same) this.announce()
  }

  /** Select a shape just added to ``model`` (``id``; null: none was) and say so. */
  added(model: BoardModel, id: string | null): void {
    if (!id) return
    const shape = model.get(id)
    this.select([id], false)
    if (shape) this.announcer.say(t('whiteboard.added', { what: shapeTitle(shape) }))
  }

  private announce(): void {
    const { model, selection } = this.state
    if (!selection.size) return this.announcer.say(t('whiteboard.selected.none'))
    if (selection.size > 1) return this.announcer.say(t('whiteboard.selected.many', { count: selection.size }))
    const shape = model?.get([...selection][0])
    if (shape) this.announcer.say(t('whiteboard.selected', { what: shapeTitle(shape) }))
  }

  /** Clear the selection; false when there was none. */
  letGo(): boolean {
    if (!this.state.selection.size) return false
    this.select([])
    return true
  }

  selectAll(): void {
    this.select(this.state.pageShapes().map((shape) => shape.id))
  }

  /** Select the next (1) or previous (-1) shape on the page, show it and say which. */
  selectNext(step: 1 | -1): void {
    const shapes = this.state.pageShapes()
    if (!shapes.length) return this.announcer.say(t('whiteboard.shapes', { count: 0 }))
    const ids = shapes.map((shape) => shape.id)
    const current = [...this.state.selection].map((id) => ids.indexOf(id)).filter((i) => i >= 0)
    const from = current.length ? (step > 0 ? Math.max(...current) : Math.min(...current)) : step > 0 ? -1 : ids.length
    const next = (from + step + ids.length) % ids.length
    this.select([ids[next]], false)
    this.viewport.reveal(shapes[next])
    this.announcer.say(t('whiteboard.selected.nth', { what: shapeTitle(shapes[next]), index: next + 1, count: ids.length }))
  }

  /** The outline chose a shape: select it and show it on the board. */
  choose(id: string): void {
    const shape = this.state.model?.get(id)
    if (!shape) return
    this.select([id])
    this.viewport.reveal(shape)
  }

  /** Move the selection by (dx, dy) board units; false when nothing is selected. */
  move(dx: number, dy: number): boolean {
    const { model, readOnly, selection } = this.state
    if (!selection.size) return false
    if (readOnly || !model) return true
    model.updateMany(
      [...selection].flatMap((id): [string, Partial<Shape>][] => {
        const shape = model.get(id)
        return shape ? [[id, { x: round(shape.x + dx), y: round(shape.y + dy) }]] : []
      }),
    )
    return true
  }

  deleteSelected(): void {
    const { model, readOnly, selection } = this.state
    if (readOnly || !model || !selection.size) return
    const count = selection.size
    model.remove(selection)
    this.select([], false)
    this.announcer.say(t('whiteboard.deleted', { count }))
  }

  /** Delete one shape (the outline's delete button). */
  remove(id: string): void {
    const { model, readOnly } = this.state
    if (readOnly || !model) return
    model.remove([id])
    this.announcer.say(t('whiteboard.deleted', { count: 1 }))
  }
}
