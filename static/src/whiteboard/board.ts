// The whiteboard UI, put together from its parts: toolbar (./toolbar), page tabs (./pages),
// the drawing surface (./scene), cursors (./cursors), input (./input), text editing
// (./text) and export (./export), sharing one ``BoardState`` (./state). This module owns
// the state changes more than one part triggers: tool, color, selection, undo, view, page.

import type { Awareness } from 'y-protocols/awareness'
import { download, fill, h, toast } from '../dom'
import { Cursors } from './cursors'
import { pngBlob, svgText } from './export'
import { BoardInput, type InputActions } from './input'
import type { BoardModel, Shape } from './model'
import { PagesBar } from './pages'
import { Scene } from './scene'
import { BoardState } from './state'
import { TextEditing } from './text'
import { Toolbar, type ToolbarActions } from './toolbar'
import { draws, STICKY_COLORS, type Tool } from './tools'

export class Whiteboard {
  readonly root: HTMLElement
  private readonly state = new BoardState()
  private frame = 0
  private detachers: (() => void)[] = []

  private readonly scene: Scene
  private readonly canvas: HTMLElement
  private readonly toolbar: Toolbar
  private readonly pagesBar: PagesBar
  private readonly status: HTMLElement
  private readonly cursors: Cursors
  private readonly text: TextEditing
  private readonly input: BoardInput

  constructor() {
    this.scene = new Scene(this.state)
    this.canvas = h('div.board-canvas', {
      tabindex: 0,
      role: 'application',
      'aria-label': 'Whiteboard. Tools: V select, H pan, P pen, L line, A arrow, R rectangle, O ellipse, T text, S sticky note, E eraser; Ctrl+Z undo, Ctrl+Shift+Z redo, Delete removes the selection, plus and minus zoom.',
      'aria-roledescription': 'whiteboard',
    })
    this.canvas.appendChild(this.scene.svg)
    // The parts call back into the board through these, not through public methods.
    const actions: ToolbarActions & InputActions = {
      setTool: (tool) => this.setTool(tool),
      setColor: (color) => this.setColor(color),
      select: (ids) => this.select(ids),
      undo: () => this.undo(),
      redo: () => this.redo(),
      deleteSelection: () => this.deleteSelection(),
      zoomAt: (factor, sx, sy) => this.zoomAt(factor, sx, sy),
      zoomBy: (factor) => this.zoomBy(factor),
      resetView: () => this.resetView(),
      applyView: () => this.applyView(),
      schedule: () => this.schedule(),
      exportPng: () => this.exportPng(),
      exportSvg: () => this.exportSvg(),
    }
    this.toolbar = new Toolbar(this.state, actions)
    this.pagesBar = new PagesBar(this.state, (page) => this.setPage(page))
    this.status = h('div.board-status', { role: 'status', 'aria-live': 'polite' })
    this.root = h('section.board', { 'aria-label': 'Whiteboard' }, this.toolbar.root, this.pagesBar.root, this.status, this.canvas)

    this.cursors = new Cursors(this.state, this.scene.cursorLayer)
    this.text = new TextEditing(this.state, this.canvas)
    this.input = new BoardInput(this.state, this.scene, this.canvas, this.text, this.cursors, actions)
    this.setTool('pen')
    this.setColor(this.state.color)
    this.updateStatus()
  }

  /** Bind to a (new) document; view state, tool and page are kept. */
  attach(model: BoardModel, awareness: Awareness): void {
    this.detach()
    this.state.model = model
    this.state.awareness = awareness
    this.state.selection.clear()
    const onShapes = (): void => this.schedule()
    const onPages = (): void => this.pagesBar.draw()
    const onCursors = (): void => this.cursors.draw()
    const onStack = (): void => this.toolbar.updateButtons()
    model.shapes.observeDeep(onShapes)
    model.pages.observeDeep(onPages)
    awareness.on('change', onCursors)
    model.undo.on('stack-item-added', onStack)
    model.undo.on('stack-item-popped', onStack)
    this.detachers = [
      () => model.shapes.unobserveDeep(onShapes),
      () => model.pages.unobserveDeep(onPages),
      () => awareness.off('change', onCursors),
      () => model.undo.off('stack-item-added', onStack),
      () => model.undo.off('stack-item-popped', onStack),
    ]
    this.pagesBar.draw()
    this.schedule()
    this.toolbar.updateButtons()
  }

  detach(): void {
    for (const undo of this.detachers) undo()
    this.detachers = []
    this.state.model = null
    this.state.awareness = null
  }

  setReadOnly(readOnly: boolean, reason = ''): void {
    const state = this.state
    const changed = readOnly !== state.readOnly
    state.readOnly = readOnly
    state.readOnlyReason = reason
    if (readOnly) {
      this.text.commit()
      state.drag = null
      this.scene.clearPreview()
      if (draws(state.tool)) this.setTool('select')
    }
    this.root.classList.toggle('read-only', readOnly)
    this.toolbar.showReadOnly(readOnly)
    this.toolbar.updateButtons()
    this.updateStatus()
    if (changed) this.pagesBar.draw()
  }

  private updateStatus(): void {
    const state = this.state
    fill(
      this.status,
      state.readOnly
        ? h('span.badge.warn', { 'data-testid': 'whiteboard-readonly' }, `Read-only: ${state.readOnlyReason || 'you cannot draw on this whiteboard'}`)
        : null,
    )
  }

  destroy(): void {
    this.detach()
    window.cancelAnimationFrame(this.frame)
    this.input.destroy()
  }

  // ---------------------------------------------------------------- tools and state

  private setTool(tool: Tool): void {
    if (this.state.readOnly && draws(tool)) return
    this.text.commit()
    this.state.tool = tool
    this.toolbar.showTool(tool)
    this.canvas.dataset.tool = tool
    if (tool !== 'select') this.select([])
  }

  private setColor(color: string): void {
    const state = this.state
    state.color = color
    this.toolbar.showColor(color)
    if (state.selection.size && state.model && !state.readOnly) {
      state.model.updateMany(
        [...state.selection].map((id) => {
          const shape = state.model?.get(id)
          return [id, shape?.type === 'sticky' ? { fill: STICKY_COLORS[color] ?? color } : { stroke: color }]
        }),
      )
    }
  }

  private select(ids: Iterable<string>): void {
    this.state.selection = new Set(ids)
    this.scene.drawSelection()
    this.toolbar.updateButtons()
  }

  private undo(): void {
    const model = this.state.model
    if (this.state.readOnly || !model) return
    model.undo.undo()
    this.select([...this.state.selection].filter((id) => this.state.model?.get(id)))
  }

  private redo(): void {
    if (this.state.readOnly || !this.state.model) return
    this.state.model.undo.redo()
  }

  private deleteSelection(): void {
    const { model, readOnly, selection } = this.state
    if (readOnly || !model || !selection.size) return
    model.remove(selection)
    this.select([])
  }

  // ---------------------------------------------------------------- view

  private applyView(): void {
    this.scene.applyView()
    this.toolbar.showZoom(this.state.view.zoom)
    this.cursors.draw()
  }

  private zoomAt(factor: number, sx: number, sy: number): void {
    const view = this.state.view
    const zoom = Math.min(8, Math.max(0.1, view.zoom * factor))
    const bx = (sx - view.x) / view.zoom
    const by = (sy - view.y) / view.zoom
    this.state.view = { x: sx - bx * zoom, y: sy - by * zoom, zoom }
    this.applyView()
  }

  private zoomBy(factor: number): void {
    const rect = this.scene.svg.getBoundingClientRect()
    this.zoomAt(factor, rect.width / 2, rect.height / 2)
  }

  private resetView(): void {
    this.state.view = { x: 0, y: 0, zoom: 1 }
    this.applyView()
  }

  private setPage(page: string): void {
    this.text.commit()
    this.state.page = page
    this.select([])
    this.pagesBar.draw()
    this.schedule()
    this.cursors.send(null)
  }

  // ---------------------------------------------------------------- rendering

  private schedule(): void {
    if (this.frame) return
    this.frame = window.requestAnimationFrame(() => {
      this.frame = 0
      this.render()
    })
  }

  private render(): void {
    const model = this.state.model
    if (!model) return
    const shapes = this.scene.drawShapes(model)
    const selection = this.state.selection
    const alive = new Set(shapes.map((shape) => shape.id))
    if ([...selection].some((id) => !alive.has(id))) this.select([...selection].filter((id) => alive.has(id)))
    else this.scene.drawSelection()
    this.applyView()
  }

  // ---------------------------------------------------------------- export

  private pageShapes(): Shape[] {
    return this.state.model?.list(this.state.page) ?? []
  }

  exportSvgText(): string {
    return svgText(this.pageShapes())
  }

  private exportSvg(): void {
    download('whiteboard.svg', this.exportSvgText(), 'image/svg+xml')
  }

  async exportPngBlob(): Promise<Blob> {
    return await pngBlob(this.pageShapes())
  }

  private async exportPng(): Promise<void> {
    try {
      download('whiteboard.png', await this.exportPngBlob())
    } catch (error) {
      toast(`Could not export PNG: ${String(error)}`, 'error')
    }
  }

  shapeCount(): number {
    return this.pageShapes().length
  }
}
