// The board's view: pan and zoom (``state.view``), shown on the scene, the zoom label and the
// cursors; and panning so a shape or box is on screen.

import type { Cursors } from './cursors'
import { type Box, bounds, type Shape } from './model'
import type { Scene } from './scene'
import type { BoardState } from './state'
import type { Toolbar } from './toolbar'

export class Viewport {
  constructor(
    private readonly state: BoardState,
    private readonly scene: Scene,
    private readonly toolbar: Toolbar,
    private readonly cursors: Cursors,
  ) {}

  /** Show the board at ``state.view`` after it changed. */
  apply(): void {
    this.scene.applyView()
    this.toolbar.showZoom(this.state.view.zoom)
    this.cursors.draw()
  }

  /** Zoom by ``factor`` (kept between 0.1 and 8) about the screen point (sx, sy). */
  zoomAt(factor: number, sx: number, sy: number): void {
    const view = this.state.view
    const zoom = Math.min(8, Math.max(0.1, view.zoom * factor))
    const bx = (sx - view.x) / view.zoom
    const by = (sy - view.y) / view.zoom
    this.state.view = { x: sx - bx * zoom, y: sy - by * zoom, zoom }
    this.apply()
  }

  /** Zoom by ``factor`` about the middle of the board. */
  zoomBy(factor: number): void {
    const rect = this.scene.svg.getBoundingClientRect()
    this.zoomAt(factor, rect.width / 2, rect.height / 2)
  }

  reset(): void {
    this.state.view = { x: 0, y: 0, zoom: 1 }
    this.apply()
  }

  reveal(shape: Shape): void {
    this.revealBox(bounds(shape))
  }

  /** Center ``box`` (board coordinates) unless it is on screen already. */
  revealBox(box: Box): void {
    const seen = this.scene.visibleBox()
    if (seen.w <= 0 || seen.h <= 0) return
    const inside = box.x >= seen.x && box.y >= seen.y && box.x + box.w <= seen.x + seen.w && box.y + box.h <= seen.y + seen.h
    if (inside) return
    const { zoom } = this.state.view
    const rect = this.scene.svg.getBoundingClientRect()
    this.state.view = { zoom, x: rect.width / 2 - (box.x + box.w / 2) * zoom, y: rect.height / 2 - (box.y + box.h / 2) * zoom }
    this.apply()
  }
}
