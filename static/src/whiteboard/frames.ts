// Drawing the board again, at most once an animation frame: the shapes, the selection (less
// the shapes that are gone), the outline (only the shapes changed since the last frame, or
// all of it after a page switch or a new document) and the view.

import type * as Y from 'yjs'
import type { BoardModel } from './model'
import type { Outline } from './outline'
import type { Scene } from './scene'
import type { BoardSelection } from './selection'
import type { BoardState } from './state'
import type { Viewport } from './viewport'

export class Frames {
  private frame = 0
  /** Shapes changed since the last frame (for the outline); null: everything. */
  private changedIds: Set<string> | null = new Set()

  constructor(
    private readonly state: BoardState,
    private readonly scene: Scene,
    private readonly outline: Outline,
    private readonly selection: BoardSelection,
    private readonly viewport: Viewport,
  ) {}

  /** Note which shapes ``events`` touched, for the outline's next update. */
  noteChanges(model: BoardModel, events: Y.YEvent<Y.AbstractType<unknown>>[]): void {
    const changed = this.changedIds
    if (!changed) return
    for (const event of events) {
      if (event.target === model.shapes) {
        for (const key of (event as Y.YMapEvent<unknown>).keysChanged) changed.add(key)
      } else {
        const first = event.path[0]
        if (typeof first === 'string') changed.add(first)
        else this.changedIds = null
      }
    }
    if (this.changedIds && this.changedIds.size > 5000) this.changedIds = null
  }

  /** Everything changed: the next frame rebuilds the outline. */
  changedAll(): void {
    this.changedIds = null
  }

  /** Draw the board at the next frame. */
  schedule(): void {
    if (this.frame) return
    this.frame = window.requestAnimationFrame(() => {
      this.frame = 0
      this.render()
    })
  }

  cancel(): void {
    window.cancelAnimationFrame(this.frame)
  }

  private render(): void {
    const model = this.state.model
    if (!model) return
    const shapes = this.scene.drawShapes(model)
    const selection = this.state.selection
    const alive = new Set(shapes.map((shape) => shape.id))
    if ([...selection].some((id) => !alive.has(id))) this.selection.select([...selection].filter((id) => alive.has(id)), false)
    else this.scene.drawSelection()
    const changed = this.changedIds
    this.changedIds = new Set()
    if (changed) this.outline.changed(changed)
    else this.outline.rebuild()
    this.viewport.apply()
  }
}
