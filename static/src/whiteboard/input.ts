// Pointer, wheel and keyboard input on the board: each gesture becomes a drag (see
// ``Drag``) that is previewed while it lasts and written to the document when it ends.

import { toast, typingInField } from '../dom'
import type { Cursors } from './cursors'
import { type Box, bounds, intersects, type Shape } from './model'
import type { Scene } from './scene'
import type { BoardState } from './state'
import type { TextEditing } from './text'
import { round, type Tool, TOOLS } from './tools'

/** What input asks of the board; the ``Whiteboard`` implements them. */
export interface InputActions {
  select(ids: Iterable<string>): void
  setTool(tool: Tool): void
  undo(): void
  redo(): void
  deleteSelection(): void
  zoomAt(factor: number, sx: number, sy: number): void
  zoomBy(factor: number): void
  resetView(): void
  /** Show the board at ``state.view`` after it changed. */
  applyView(): void
  /** Draw the shapes again at the next frame. */
  schedule(): void
}

export class BoardInput {
  private spaceDown = false

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
      this.state.drag = null
      this.scene.drawPreview()
    })
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
    canvas.addEventListener('keydown', (event) => this.keyDown(event))
    window.addEventListener('keyup', this.onKeyUp)
  }

  destroy(): void {
    window.removeEventListener('keyup', this.onKeyUp)
  }

  private onKeyUp = (event: KeyboardEvent): void => {
    if (event.key === ' ') this.spaceDown = false
  }

  private keyDown(event: KeyboardEvent): void {
    if (typingInField(event.target)) return
    const { actions, state } = this
    const key = event.key.toLowerCase()
    const mod = event.ctrlKey || event.metaKey
    if (mod && key === 'z') {
      event.preventDefault()
      if (event.shiftKey) actions.redo()
      else actions.undo()
      return
    }
    if (mod && key === 'y') {
      event.preventDefault()
      actions.redo()
      return
    }
    if (mod || event.altKey) return
    if (key === ' ') {
      this.spaceDown = true
      event.preventDefault()
      return
    }
    if (key === 'delete' || key === 'backspace') {
      event.preventDefault()
      actions.deleteSelection()
      return
    }
    if (key === 'escape') {
      actions.select([])
      return
    }
    if (key === '+' || key === '=') return actions.zoomBy(1.25)
    if (key === '-') return actions.zoomBy(1 / 1.25)
    if (key === '0') return actions.resetView()
    const arrows: Record<string, [number, number]> = { arrowleft: [-1, 0], arrowright: [1, 0], arrowup: [0, -1], arrowdown: [0, 1] }
    if (key in arrows) {
      event.preventDefault()
      const [dx, dy] = arrows[key]
      const step = event.shiftKey ? 20 : 4
      if (state.selection.size && !state.readOnly && state.model) {
        const model = state.model
        model.updateMany(
          [...state.selection].flatMap((id): [string, Partial<Shape>][] => {
            const shape = model.get(id)
            return shape ? [[id, { x: shape.x + dx * step, y: shape.y + dy * step }]] : []
          }),
        )
      } else {
        state.view = { ...state.view, x: state.view.x - dx * step * 5, y: state.view.y - dy * step * 5 }
        actions.applyView()
      }
      return
    }
    const tool = TOOLS.find((t) => t.key === key)
    if (tool) {
      event.preventDefault()
      actions.setTool(tool.id)
    }
  }

  private pointerDown(event: PointerEvent): void {
    const { state, scene } = this
    if (this.text.active) {
      this.text.commit()
      return
    }
    this.canvas.focus({ preventScroll: true })
    if (event.button !== 0 && event.button !== 1) return
    scene.svg.setPointerCapture(event.pointerId)
    const [bx, by] = scene.toBoard(event.clientX, event.clientY)
    const tool = state.tool
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
      toast(`The whiteboard is read-only: ${state.readOnlyReason}`, 'info', 3000)
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
