// The board's drawing surface: the SVG with its layers (shapes, gesture preview, selection,
// remote cursors) under one pan/zoom transform, and what is drawn on each layer.

import { s } from '../dom'
import { drawingName } from './describe'
import { type BoardModel, type Box, bounds, hit, type Shape } from './model'
import { freehandPath, renderSafely, renderShape } from './render'
import type { BoardState, Drag } from './state'
import { withAlpha } from './tools'

export class Scene {
  readonly svg: SVGSVGElement
  readonly cursorLayer: SVGGElement
  private readonly viewport: SVGGElement
  private readonly shapesLayer: SVGGElement
  private readonly previewLayer: SVGGElement
  private readonly selectionLayer: SVGGElement
  private readonly keyboardCursor: SVGGElement

  constructor(private readonly state: BoardState) {
    this.svg = s('svg', { class: 'board-svg', role: 'img', 'aria-label': drawingName('', 0), 'data-shapes': 0 })
    this.viewport = s('g', { class: 'viewport' })
    this.shapesLayer = s('g', { class: 'shapes' })
    this.previewLayer = s('g', { class: 'preview' })
    this.selectionLayer = s('g', { class: 'selection' })
    this.cursorLayer = s('g', { class: 'cursors' })
    // Where keys add shapes: a ring and cross, drawn while the board has keyboard focus.
    this.keyboardCursor = s(
      'g',
      { class: 'keyboard-cursor', 'aria-hidden': 'true' },
      s('circle', { cx: 0, cy: 0, r: 9, class: 'halo' }),
      s('circle', { cx: 0, cy: 0, r: 9 }),
      s('path', { d: 'M -14 0 H -4 M 4 0 H 14 M 0 -14 V -4 M 0 4 V 14' }),
    )
    this.viewport.append(this.shapesLayer, this.previewLayer, this.selectionLayer, this.keyboardCursor, this.cursorLayer)
    this.svg.appendChild(this.viewport)
  }

  /** The board point under a pointer at (``clientX``, ``clientY``). */
  toBoard(clientX: number, clientY: number): [number, number] {
    const { view } = this.state
    const rect = this.svg.getBoundingClientRect()
    return [(clientX - rect.left - view.x) / view.zoom, (clientY - rect.top - view.y) / view.zoom]
  }

  /** Move and scale the layers and the background grid to the current view. */
  applyView(): void {
    const { view } = this.state
    this.viewport.setAttribute('transform', `translate(${view.x} ${view.y}) scale(${view.zoom})`)
    this.svg.style.backgroundSize = `${24 * view.zoom}px ${24 * view.zoom}px`
    this.svg.style.backgroundPosition = `${view.x}px ${view.y}px`
    this.drawKeyboardCursor()
  }

  /** Draw the current page's shapes; returns them (bottom first). */
  drawShapes(model: BoardModel): Shape[] {
    const { page } = this.state
    const shapes = model.list(page)
    // one by one, not replaceChildren(...all): a board can hold more shapes than a call has arguments
    const drawn = document.createDocumentFragment()
    for (const shape of shapes) {
      const el = renderSafely(shape)
      if (el) drawn.appendChild(el)
    }
    this.shapesLayer.replaceChildren(drawn)
    this.svg.setAttribute('data-shapes', String(shapes.length))
    const alts = shapes.flatMap((shape) => (shape.type === 'image' && shape.alt ? [shape.alt.slice(0, 200)] : [])).slice(0, 20)
    const name = model.pageList().find((p) => p.id === page)?.name ?? ''
    this.svg.setAttribute('aria-label', drawingName(name, shapes.length, alts))
    return shapes
  }

  /** Put the keyboard cursor mark at ``state.cursor`` (constant size on screen). */
  drawKeyboardCursor(): void {
    const { cursor, view } = this.state
    this.keyboardCursor.setAttribute('transform', `translate(${cursor.x} ${cursor.y}) scale(${1 / view.zoom})`)
  }

  /** The board rectangle the svg shows now. */
  visibleBox(): Box {
    const { view } = this.state
    const rect = this.svg.getBoundingClientRect()
    return { x: -view.x / view.zoom, y: -view.y / view.zoom, w: rect.width / view.zoom, h: rect.height / view.zoom }
  }

  /** Outline the selected shapes (shifted by a move in progress). */
  drawSelection(): void {
    const { model, view } = this.state
    this.selectionLayer.replaceChildren()
    if (!model) return
    const drag = this.state.drag?.kind === 'move' ? this.state.drag : null
    for (const id of this.state.selection) {
      const shape = model.get(id)
      if (!shape) continue
      const box = bounds(shape)
      const pad = 4 / view.zoom
      this.selectionLayer.appendChild(
        s('rect', {
          x: box.x - pad + (drag?.dx ?? 0),
          y: box.y - pad + (drag?.dy ?? 0),
          width: box.w + 2 * pad,
          height: box.h + 2 * pad,
          class: 'selection-box',
          'stroke-width': 1.5 / view.zoom,
          'stroke-dasharray': `${4 / view.zoom} ${3 / view.zoom}`,
        }),
      )
    }
  }

  /** Show the gesture in progress: the stroke or shape being drawn, the marquee, the move. */
  drawPreview(): void {
    const { drag, view } = this.state
    this.previewLayer.replaceChildren()
    if (!drag) return
    if (drag.kind === 'pen' && drag.points.length) {
      this.previewLayer.appendChild(s('path', { d: freehandPath(drag.points, this.state.width * 2 + 2), fill: this.state.color }))
    } else if (drag.kind === 'shape') {
      const shape = this.shapeFromDrag(drag)
      if (shape) this.previewLayer.appendChild(renderShape({ ...shape, id: 'preview', z: 0 } as Shape))
    } else if (drag.kind === 'marquee') {
      this.previewLayer.appendChild(
        s('rect', {
          x: Math.min(drag.x0, drag.x1),
          y: Math.min(drag.y0, drag.y1),
          width: Math.abs(drag.x1 - drag.x0),
          height: Math.abs(drag.y1 - drag.y0),
          class: 'marquee',
          'stroke-width': 1 / view.zoom,
        }),
      )
    } else if (drag.kind === 'move') {
      for (const id of this.state.selection) {
        const el = this.shapesLayer.querySelector<SVGGElement>(`[data-id="${CSS.escape(id)}"]`)
        el?.setAttribute('transform', `translate(${drag.dx} ${drag.dy})`)
      }
      this.drawSelection()
    }
  }

  clearPreview(): void {
    this.previewLayer.replaceChildren()
  }

  /** The shape a line/arrow/rectangle/ellipse gesture draws, in the current pen. */
  shapeFromDrag(drag: Extract<Drag, { kind: 'shape' }>): Omit<Shape, 'id' | 'z'> | null {
    const { color, width, filled, page } = this.state
    const base = { stroke: color, strokeWidth: width, page }
    if (drag.type === 'line' || drag.type === 'arrow') {
      return { ...base, type: drag.type, x: drag.x0, y: drag.y0, points: [[0, 0], [drag.x1 - drag.x0, drag.y1 - drag.y0]] }
    }
    const x = Math.min(drag.x0, drag.x1)
    const y = Math.min(drag.y0, drag.y1)
    return {
      ...base,
      type: drag.type,
      x,
      y,
      w: Math.abs(drag.x1 - drag.x0),
      h: Math.abs(drag.y1 - drag.y0),
      fill: filled ? withAlpha(color) : null,
    }
  }

  /** The topmost shape of the current page at board point (``bx``, ``by``). */
  hitTop(bx: number, by: number): Shape | null {
    const shapes = this.state.model?.list(this.state.page) ?? []
    const tolerance = 6 / this.state.view.zoom
    for (let i = shapes.length - 1; i >= 0; i--) if (hit(shapes[i], bx, by, tolerance)) return shapes[i]
    return null
  }
}
