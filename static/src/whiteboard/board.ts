// The whiteboard UI, put together from its parts: toolbar (./toolbar), page tabs (./pages),
// the drawing surface (./scene), cursors (./cursors), pointer and touch input (./input), keys
// (./keys), text editing (./text), the outline (./outline), images (./images), the live
// region (./announce) and export (./export), sharing one ``BoardState`` (./state). This
// module owns the state changes more than one part triggers: tool, color, selection, undo,
// view, page, touch mode.

import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import { download, fill, h, toast } from '../dom'
import './board.css'
import { Announcer } from './announce'
import { Cursors } from './cursors'
import { shapeTitle, TEXT as WORDS } from './describe'
import { pngBlob, svgText } from './export'
import { askAlt, loadImage, pickFile } from './images'
import { BoardInput, type InputActions } from './input'
import { boardKeys, type KeyActions, TEXT as KEYS } from './keys'
import { type BoardModel, bounds, type Shape } from './model'
import { Outline, type OutlineActions } from './outline'
import { PagesBar } from './pages'
import { Scene } from './scene'
import { BoardState, type TouchMode } from './state'
import { TextEditing } from './text'
import { Toolbar, type ToolbarActions } from './toolbar'
import { draws, round, STICKY_COLORS, type Tool, withAlpha } from './tools'

/** Interface strings of this module (one place, for the message catalogue). */
export const TEXT = {
  board: 'Whiteboard',
  canvas: 'Whiteboard canvas',
  readOnly: (reason: string) => `Read-only: ${reason || 'you cannot draw on this whiteboard'}`,
  exportFailed: (error: string) => `Could not export PNG: ${error}`,
  help: 'Whiteboard keys (when the board has focus)',
  noKeyShape: 'The pen and pan tools draw with a pointer: choose a shape, text or sticky note to add one with Enter.',
  touchScroll: 'One finger scrolls the page; two fingers pan and zoom the board.',
  touchDraw: 'One finger draws; two fingers pan and zoom the board.',
}

let boards = 0

export class Whiteboard {
  readonly root: HTMLElement
  private readonly state = new BoardState()
  private frame = 0
  private detachers: (() => void)[] = []
  /** Shapes changed since the last frame (for the outline); null: everything. */
  private changedIds: Set<string> | null = new Set()

  private readonly scene: Scene
  private readonly canvas: HTMLElement
  private readonly toolbar: Toolbar
  private readonly pagesBar: PagesBar
  private readonly status: HTMLElement
  private readonly announcer = new Announcer()
  private readonly help: HTMLElement
  private readonly outline: Outline
  private readonly cursors: Cursors
  private readonly text: TextEditing
  private readonly input: BoardInput

  constructor() {
    const prefix = `board-${++boards}`
    this.scene = new Scene(this.state)
    this.help = h(
      'div.board-help',
      // focusable: it scrolls when the screen is short
      { id: `${prefix}-help`, hidden: true, tabindex: 0, role: 'region', 'aria-labelledby': `${prefix}-help-title` },
      h('h3', { id: `${prefix}-help-title` }, TEXT.help),
      h('dl', null, KEYS.shortcuts.flatMap(([keys, what]) => [h('dt', null, h('kbd', null, keys)), h('dd', null, what)])),
    )
    this.canvas = h('div.board-canvas', {
      tabindex: 0,
      role: 'application',
      'aria-label': TEXT.canvas,
      'aria-describedby': this.help.id,
      'aria-roledescription': 'whiteboard',
    })
    this.canvas.appendChild(this.scene.svg)
    // The parts call back into the board through these, not through public methods.
    const actions: ToolbarActions & InputActions & KeyActions & OutlineActions = {
      setTool: (tool) => this.setTool(tool),
      setColor: (color) => this.setColor(color),
      setTouchMode: (mode) => this.setTouchMode(mode),
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
      insertImage: () => void this.insertImage(),
      toggleOutline: () => this.showOutline(!this.outline.open),
      toggleHelp: () => this.showHelp(this.help.hidden),
      letGo: () => this.letGo(),
      selectAll: () => this.select(this.pageShapes().map((shape) => shape.id)),
      selectNext: (step) => this.selectNext(step),
      moveSelection: (dx, dy) => this.moveSelection(dx, dy),
      moveCursor: (dx, dy) => this.moveCursor(dx, dy),
      activate: () => this.activate(),
      spaceHeld: (down) => this.input.holdSpace(down),
      choose: (id) => this.choose(id),
      remove: (id) => this.removeShape(id),
    }
    this.outline = new Outline(this.state, actions)
    this.toolbar = new Toolbar(this.state, actions, { outline: this.outline.root.id, help: this.help.id })
    this.pagesBar = new PagesBar(this.state, (page) => this.setPage(page))
    this.status = h('div.board-status')
    this.root = h(
      'section.board',
      { 'aria-label': TEXT.board, 'data-touch': this.state.touchMode },
      this.toolbar.root,
      this.pagesBar.root,
      this.status,
      this.announcer.el,
      this.help,
      h('div.board-body', null, this.canvas, this.outline.root),
    )

    this.cursors = new Cursors(this.state, this.scene.cursorLayer)
    this.text = new TextEditing(this.state, this.canvas)
    this.input = new BoardInput(this.state, this.scene, this.canvas, this.text, this.cursors, actions)
    boardKeys(this.canvas, actions)
    this.canvas.addEventListener('focus', () => this.keepCursorInView())
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
    const onShapes = (events: Y.YEvent<Y.AbstractType<unknown>>[]): void => {
      this.noteChanges(model, events)
      this.schedule()
    }
    const onPages = (): void => {
      this.pagesBar.draw()
      this.changedIds = null
      this.schedule()
    }
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
    this.changedIds = null
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
    fill(this.status, state.readOnly ? h('span.badge.warn', { 'data-testid': 'whiteboard-readonly' }, TEXT.readOnly(state.readOnlyReason)) : null)
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
    if (tool !== 'select') this.select([], false)
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

  private setTouchMode(mode: TouchMode): void {
    this.state.touchMode = mode
    this.root.dataset.touch = mode
    this.toolbar.showTouchMode(mode)
    this.announcer.say(mode === 'draw' ? TEXT.touchDraw : TEXT.touchScroll)
  }

  /** Select ``ids``; ``announce``: say what is selected now (a deliberate change). */
  private select(ids: Iterable<string>, announce = true): void {
    const before = this.state.selection
    const next = new Set(ids)
    this.state.selection = next
    this.scene.drawSelection()
    this.toolbar.updateButtons()
    this.outline.showSelection()
    const same = before.size === next.size && [...next].every((id) => before.has(id))
    if (announce && !same) this.announceSelection()
  }

  private announceSelection(): void {
    const { model, selection } = this.state
    if (!selection.size) return this.announcer.say(WORDS.nothingSelected)
    if (selection.size > 1) return this.announcer.say(WORDS.selectedMany(selection.size))
    const shape = model?.get([...selection][0])
    if (shape) this.announcer.say(WORDS.selected(shapeTitle(shape)))
  }

  private letGo(): boolean {
    if (!this.state.selection.size) return false
    this.select([])
    return true
  }

  private selectNext(step: 1 | -1): void {
    const shapes = this.pageShapes()
    if (!shapes.length) return this.announcer.say(WORDS.shapes(0))
    const ids = shapes.map((shape) => shape.id)
    const current = [...this.state.selection].map((id) => ids.indexOf(id)).filter((i) => i >= 0)
    const from = current.length ? (step > 0 ? Math.max(...current) : Math.min(...current)) : step > 0 ? -1 : ids.length
    const next = (from + step + ids.length) % ids.length
    this.select([ids[next]], false)
    this.reveal(shapes[next])
    this.announcer.say(`${WORDS.selected(shapeTitle(shapes[next]))} (${next + 1}/${ids.length})`)
  }

  private moveSelection(dx: number, dy: number): boolean {
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

  private moveCursor(dx: number, dy: number): void {
    const cursor = this.state.cursor
    this.state.cursor = { x: round(cursor.x + dx), y: round(cursor.y + dy) }
    this.scene.drawKeyboardCursor()
    this.keepCursorInView()
  }

  /** Pan so the keyboard cursor is on screen (with a margin). */
  private keepCursorInView(): void {
    const { cursor } = this.state
    this.revealBox({ x: cursor.x - 20, y: cursor.y - 20, w: 40, h: 40 })
  }

  private reveal(shape: Shape): void {
    this.revealBox(bounds(shape))
  }

  private revealBox(box: { x: number; y: number; w: number; h: number }): void {
    const seen = this.scene.visibleBox()
    if (seen.w <= 0 || seen.h <= 0) return
    const inside = box.x >= seen.x && box.y >= seen.y && box.x + box.w <= seen.x + seen.w && box.y + box.h <= seen.y + seen.h
    if (inside) return
    const { zoom } = this.state.view
    const rect = this.scene.svg.getBoundingClientRect()
    this.state.view = { zoom, x: rect.width / 2 - (box.x + box.w / 2) * zoom, y: rect.height / 2 - (box.y + box.h / 2) * zoom }
    this.applyView()
  }

  /** Enter: edit the one selected text, note or image; else add the tool's shape at the cursor. */
  private activate(): void {
    const state = this.state
    const model = state.model
    if (!model) return
    if (state.selection.size === 1) {
      const shape = model.get([...state.selection][0])
      if (shape && !state.readOnly) {
        if (shape.type === 'text' || shape.type === 'sticky') return this.text.editText(shape)
        if (shape.type === 'image') return void this.describeImage(shape)
      }
      return
    }
    const { x, y } = state.cursor
    if (state.tool === 'select') {
      const target = this.scene.hitTop(x, y)
      if (target) this.select([target.id])
      return
    }
    if (state.readOnly) return
    const added = (id: string | null): void => {
      if (!id) return
      const shape = model.get(id)
      this.select([id], false)
      if (shape) this.announcer.say(WORDS.added(shapeTitle(shape)))
    }
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
          this.announcer.say(WORDS.deleted(1))
        }
        return
      }
      default:
        this.announcer.say(TEXT.noKeyShape)
    }
  }

  private undo(): void {
    const model = this.state.model
    if (this.state.readOnly || !model) return
    model.undo.undo()
    this.select(
      [...this.state.selection].filter((id) => this.state.model?.get(id)),
      false,
    )
  }

  private redo(): void {
    if (this.state.readOnly || !this.state.model) return
    this.state.model.undo.redo()
  }

  private deleteSelection(): void {
    const { model, readOnly, selection } = this.state
    if (readOnly || !model || !selection.size) return
    const count = selection.size
    model.remove(selection)
    this.select([], false)
    this.announcer.say(WORDS.deleted(count))
  }

  private removeShape(id: string): void {
    const { model, readOnly } = this.state
    if (readOnly || !model) return
    model.remove([id])
    this.announcer.say(WORDS.deleted(1))
  }

  /** The outline chose a shape: select it and show it on the board. */
  private choose(id: string): void {
    const shape = this.state.model?.get(id)
    if (!shape) return
    this.select([id])
    this.reveal(shape)
  }

  private showOutline(open: boolean): void {
    this.outline.show(open)
    this.toolbar.outlineButton.setAttribute('aria-expanded', String(open))
    this.root.classList.toggle('with-outline', open)
  }

  private showHelp(open: boolean): void {
    this.help.hidden = !open
    this.toolbar.helpButton.setAttribute('aria-expanded', String(open))
  }

  // ---------------------------------------------------------------- images

  private async insertImage(): Promise<void> {
    const state = this.state
    if (state.readOnly || !state.model) return
    const file = await pickFile()
    if (!file) return
    let picked
    try {
      picked = await loadImage(file)
    } catch (error) {
      toast(error instanceof Error ? error.message : String(error), 'error')
      return
    }
    const alt = await askAlt()
    const model = state.model
    if (alt === null || !model || state.readOnly) return this.canvas.focus()
    const { x, y } = state.cursor
    const id = model.add({ type: 'image', x, y, w: picked.w, h: picked.h, src: picked.src, alt, page: state.page })
    this.canvas.focus()
    this.select([id], false)
    const shape = model.get(id)
    if (shape) this.announcer.say(WORDS.added(shapeTitle(shape)))
  }

  private async describeImage(shape: Shape): Promise<void> {
    const alt = await askAlt(shape.alt ?? '')
    this.canvas.focus()
    if (alt === null || this.state.readOnly) return
    this.state.model?.update(shape.id, { alt })
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
    const changed = page !== this.state.page
    this.state.page = page
    this.select([], false)
    this.pagesBar.draw()
    this.changedIds = null
    this.schedule()
    this.cursors.send(null)
    const model = this.state.model
    if (changed && model) {
      const pages = model.pageList()
      const index = pages.findIndex((p) => p.id === page)
      this.announcer.say(WORDS.page(pages[index]?.name ?? '', index + 1, pages.length, model.list(page).length))
    }
  }

  // ---------------------------------------------------------------- rendering

  /** Note which shapes ``events`` touched, for the outline's next update. */
  private noteChanges(model: BoardModel, events: Y.YEvent<Y.AbstractType<unknown>>[]): void {
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
    if ([...selection].some((id) => !alive.has(id))) this.select([...selection].filter((id) => alive.has(id)), false)
    else this.scene.drawSelection()
    const changed = this.changedIds
    this.changedIds = new Set()
    if (changed) this.outline.changed(changed)
    else this.outline.rebuild()
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
      toast(TEXT.exportFailed(String(error)), 'error')
    }
  }

  shapeCount(): number {
    return this.pageShapes().length
  }
}
