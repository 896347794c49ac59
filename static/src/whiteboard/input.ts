// Pointer, wheel and touch input on the board (keys are ./keys.ts): each gesture becomes a
// drag (see ``Drag``) that is previewed while it lasts and written to the document when it
// ends. Touch: one finger scrolls the page unless the person chose to draw with it (then
// the svg takes every touch, CSS ``touch-action: none``); two fingers always pan and zoom
// the board; a tap selects, or places a text or sticky note, in either mode.

import { toast } from '../dom'
import type { Cursors } from './cursors'
import { readOnlyMessage } from './describe'
import { type Box, bounds, intersects, type Shape } from './model'
import type { Scene } from './scene'
import type { BoardState } from './state'
import type { TextEditing } from './text'
import { round } from './tools'

/** A touch pointer that may become a tap (scroll mode: it never draws). */
interface TapCandidate {
  id: number
  x: number
  y: number
}

/** Two fingers on the board: where they started and the view then. */
interface Pinch {
  distance: number
  mx: number
  my: number
  view: { x: number; y: number; zoom: number }
}

/** What input asks of the board; the ``Whiteboard`` implements them. */
export interface InputActions {
  select(ids: Iterable<string>): void
  zoomAt(factor: number, sx: number, sy: number): void
  /** Show the board at ``state.view`` after it changed. */
  applyView(): void
  /** Draw the shapes again at the next frame. */
  schedule(): void
}

export class BoardInput {
  private spaceDown = false
  private tap: TapCandidate | null = null
  private pinch: Pinch | null = null
  /** Fingers were on the board two at a time; pointer input waits until they all lift. */
  private pinched = false

  /** Listens on ``scene.svg`` (pointer, wheel) and ``canvas`` (keys) until ``destroy``. */
  constructor(
    private readonly state: BoardState,
    private readonly scene: Scene,
    private readonly canvas: HTMLElement,
    private readonly text: TextEditing,
    private readonly cursors: Cursors,
    private readonly actions: InputActions,
  ) {
    const svg = scene.svg
    svg.addEventListener('pointerdown', (event) => this.pointerDown(event))
    svg.addEventListener('pointermove', (event) => this.pointerMove(event))
    svg.addEventListener('pointerup', (event) => this.pointerUp(event))
    svg.addEventListener('pointercancel', () => {
      // The browser took the touch over (scrolling the page) or a second finger landed.
      this.tap = null
      this.state.drag = null
      this.scene.drawPreview()
    })
    svg.addEventListener('touchstart', (event) => this.touchStart(event), { passive: false })
    svg.addEventListener('touchmove', (event) => this.touchMove(event), { passive: false })
    svg.addEventListener('touchend', (event) => this.touchEnd(event))
    svg.addEventListener('touchcancel', (event) => this.touchEnd(event))
    svg.addEventListener('pointerleave', () => this.cursors.send(null))
    svg.addEventListener('dblclick', (event) => {
      const [bx, by] = this.scene.toBoard(event.clientX, event.clientY)
      const target = this.scene.hitTop(bx, by)
      if (target && (target.type === 'text' || target.type === 'sticky') && !this.state.readOnly) this.text.editText(target)
    })
    svg.addEventListener(
      'wheel',
      (event) => {
        event.preventDefault()
        const rect = svg.getBoundingClientRect()
        if (event.ctrlKey || event.metaKey) {
          this.actions.zoomAt(Math.exp(-event.deltaY / 300), event.clientX - rect.left, event.clientY - rect.top)
        } else {
          const view = this.state.view
          this.state.view = { ...view, x: view.x - event.deltaX, y: view.y - event.deltaY }
          this.actions.applyView()
        }
      },
      { passive: false },
    )
    window.addEventListener('keyup', this.onKeyUp)
  }

  /** Space held: the next drag pans (see ./keys.ts). */
  holdSpace(down: boolean): void {
    this.spaceDown = down
  }

  destroy(): void {
    window.removeEventListener('keyup', this.onKeyUp)
  }

  private onKeyUp = (event: KeyboardEvent): void => {
    if (event.key === ' ') this.spaceDown = false
  }

  /** Whether this touch pointer only scrolls or taps (one-finger scroll mode). */
  private scrollsOnly(event: PointerEvent): boolean {
    return event.pointerType === 'touch' && this.state.touchMode === 'scroll'
  }

  private pointerDown(event: PointerEvent): void {
    const { state, scene } = this
    if (!event.isPrimary || this.pinched) return
    if (this.text.active) {
      this.text.commit()
      return
    }
    if (this.scrollsOnly(event)) {
      this.tap = { id: event.pointerId, x: event.clientX, y: event.clientY }
      return
    }
    this.canvas.focus({ preventScroll: true })
    if (event.button !== 0 && event.button !== 1) return
    scene.svg.setPointerCapture(event.pointerId)
    const [bx, by] = scene.toBoard(event.clientX, event.clientY)
    const tool = state.tool
    // Keys add shapes where the pointer last pressed.
    state.cursor = { x: round(bx), y: round(by) }
    scene.drawKeyboardCursor()
    if (event.button === 1 || tool === 'hand' || this.spaceDown) {
      state.drag = { kind: 'pan', sx: event.clientX, sy: event.clientY, ox: state.view.x, oy: state.view.y }
      return
    }
    if (tool === 'select') {
      const target = scene.hitTop(bx, by)
      if (target) {
        if (event.shiftKey) {
          const next = new Set(state.selection)
          if (next.has(target.id)) next.delete(target.id)
          else next.add(target.id)
          this.actions.select(next)
        } else if (!state.selection.has(target.id)) {
          this.actions.select([target.id])
        }
        if (!state.readOnly) state.drag = { kind: 'move', x0: bx, y0: by, dx: 0, dy: 0, moved: false }
      } else {
        state.drag = { kind: 'marquee', x0: bx, y0: by, x1: bx, y1: by, additive: event.shiftKey }
      }
      return
    }
    if (state.readOnly) {
      toast(readOnlyMessage(state.readOnlyReason), 'info', 3000)
      return
    }
    switch (tool) {
      case 'pen':
        state.drag = { kind: 'pen', points: [[bx, by]] }
        break
      case 'line':
      case 'arrow':
      case 'rect':
      case 'ellipse':
        state.drag = { kind: 'shape', type: tool, x0: bx, y0: by, x1: bx, y1: by }
        break
      case 'eraser':
        state.drag = { kind: 'erase', erased: new Set() }
        this.eraseAt(bx, by)
        break
      case 'text':
        event.preventDefault()
        this.text.newText(bx, by)
        break
      case 'sticky':
        event.preventDefault()
        this.text.newSticky(bx, by)
        break
    }
    scene.drawPreview()
  }

  private pointerMove(event: PointerEvent): void {
    const { state } = this
    if (!event.isPrimary || this.pinched) return
    if (this.scrollsOnly(event)) {
      if (this.tap && Math.hypot(event.clientX - this.tap.x, event.clientY - this.tap.y) > 10) this.tap = null
      return
    }
    const [bx, by] = this.scene.toBoard(event.clientX, event.clientY)
    this.cursors.send({ x: bx, y: by })
    const drag = state.drag
    if (!drag) return
    switch (drag.kind) {
      case 'pan':
        state.view = { ...state.view, x: drag.ox + event.clientX - drag.sx, y: drag.oy + event.clientY - drag.sy }
        this.actions.applyView()
        return
      case 'pen': {
        const last = drag.points[drag.points.length - 1]
        if (Math.hypot(bx - last[0], by - last[1]) * state.view.zoom >= 1.5) drag.points.push([bx, by])
        break
      }
      case 'shape': {
        drag.x1 = bx
        drag.y1 = by
        if (event.shiftKey && (drag.type === 'rect' || drag.type === 'ellipse')) {
          const side = Math.max(Math.abs(bx - drag.x0), Math.abs(by - drag.y0))
          drag.x1 = drag.x0 + Math.sign(bx - drag.x0 || 1) * side
          drag.y1 = drag.y0 + Math.sign(by - drag.y0 || 1) * side
        }
        break
      }
      case 'move':
        drag.dx = bx - drag.x0
        drag.dy = by - drag.y0
        drag.moved ||= Math.hypot(drag.dx, drag.dy) * state.view.zoom > 2
        break
      case 'marquee':
        drag.x1 = bx
        drag.y1 = by
        break
      case 'erase':
        this.eraseAt(bx, by)
        return
    }
    this.scene.drawPreview()
  }

  private pointerUp(event: PointerEvent): void {
    const { state, scene } = this
    if (this.scrollsOnly(event)) {
      const tap = this.tap
      this.tap = null
      if (tap?.id === event.pointerId && !this.pinched) this.tapAt(event.clientX, event.clientY)
      return
    }
    const drag = state.drag
    state.drag = null
    if (scene.svg.hasPointerCapture(event.pointerId)) scene.svg.releasePointerCapture(event.pointerId)
    scene.clearPreview()
    const model = state.model
    if (!drag || !model) return
    switch (drag.kind) {
      case 'pen': {
        if (state.readOnly) return
        const xs = drag.points.map((p) => p[0])
        const ys = drag.points.map((p) => p[1])
        const x = Math.min(...xs)
        const y = Math.min(...ys)
        const points = drag.points.map(([px, py]) => [round(px - x), round(py - y)])
        model.add({ type: 'path', x: round(x), y: round(y), points, stroke: state.color, strokeWidth: state.width, page: state.page })
        break
      }
      case 'shape': {
        if (state.readOnly) return
        const shape = scene.shapeFromDrag(drag)
        const size = Math.hypot(drag.x1 - drag.x0, drag.y1 - drag.y0) * state.view.zoom
        if (shape && size >= 3) model.add(shape)
        break
      }
      case 'move':
        if (drag.moved && !state.readOnly) {
          model.updateMany(
            [...state.selection].flatMap((id): [string, Partial<Shape>][] => {
              const shape = model.get(id)
              return shape ? [[id, { x: round(shape.x + drag.dx), y: round(shape.y + drag.dy) }]] : []
            }),
          )
        }
        this.actions.schedule()
        break
      case 'marquee': {
        const box: Box = { x: Math.min(drag.x0, drag.x1), y: Math.min(drag.y0, drag.y1), w: Math.abs(drag.x1 - drag.x0), h: Math.abs(drag.y1 - drag.y0) }
        const inside = model.list(state.page).filter((shape) => intersects(box, bounds(shape))).map((shape) => shape.id)
        this.actions.select(drag.additive ? [...state.selection, ...inside] : inside)
        break
      }
      default:
        break
    }
  }

  /** A tap in scroll mode: select what is under it, or place a text or sticky note there. */
  private tapAt(clientX: number, clientY: number): void {
    const { state, scene } = this
    if (this.text.active) return this.text.commit()
    const [bx, by] = scene.toBoard(clientX, clientY)
    state.cursor = { x: round(bx), y: round(by) }
    scene.drawKeyboardCursor()
    if (!state.readOnly && state.tool === 'text') return this.text.newText(bx, by)
    if (!state.readOnly && state.tool === 'sticky') return this.text.newSticky(bx, by)
    const target = scene.hitTop(bx, by)
    this.actions.select(target ? [target.id] : [])
  }

  private touchStart(event: TouchEvent): void {
    if (event.touches.length < 2) return
    // A second finger: the board pans and zooms; whatever the first finger began is dropped.
    event.preventDefault()
    this.pinched = true
    this.tap = null
    this.state.drag = null
    this.scene.clearPreview()
    const [a, b] = [event.touches[0], event.touches[1]]
    const rect = this.scene.svg.getBoundingClientRect()
    this.pinch = {
      distance: Math.max(1, Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY)),
      mx: (a.clientX + b.clientX) / 2 - rect.left,
      my: (a.clientY + b.clientY) / 2 - rect.top,
      view: { ...this.state.view },
    }
  }

  private touchMove(event: TouchEvent): void {
    const pinch = this.pinch
    if (!pinch || event.touches.length < 2) return
    event.preventDefault()
    const [a, b] = [event.touches[0], event.touches[1]]
    const rect = this.scene.svg.getBoundingClientRect()
    const distance = Math.max(1, Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY))
    const mx = (a.clientX + b.clientX) / 2 - rect.left
    const my = (a.clientY + b.clientY) / 2 - rect.top
    const start = pinch.view
    const zoom = Math.min(8, Math.max(0.1, (start.zoom * distance) / pinch.distance))
    // The board point that was under the fingers' midpoint stays under it.
    const bx = (pinch.mx - start.x) / start.zoom
    const by = (pinch.my - start.y) / start.zoom
    this.state.view = { x: mx - bx * zoom, y: my - by * zoom, zoom }
    this.actions.applyView()
  }

  private touchEnd(event: TouchEvent): void {
    if (event.touches.length < 2) this.pinch = null
    if (event.touches.length === 0) this.pinched = false
  }

  private eraseAt(bx: number, by: number): void {
    const { state } = this
    const drag = state.drag
    const model = state.model
    if (!model || drag?.kind !== 'erase' || state.readOnly) return
    const target = this.scene.hitTop(bx, by)
    if (target && !drag.erased.has(target.id)) {
      drag.erased.add(target.id)
      model.remove([target.id])
    }
  }
}
