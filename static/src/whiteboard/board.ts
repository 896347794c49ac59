// The whiteboard UI, put together from its parts: toolbar (./toolbar), page tabs (./pages),
// the drawing surface (./scene), cursors (./cursors), pointer and touch input (./input), keys
// (./keys), text editing (./text), the outline (./outline), images (./images), the live
// region (./announce), export (./export), the view (./viewport), the selection
// (./selection), the keyboard cursor (./keycursor) and drawing once a frame (./frames),
// sharing one ``BoardState`` (./state). This module wires them together and owns the state
// changes that reach several parts: document, read-only, tool, color, undo, page, touch mode.

import type { Awareness } from 'y-protocols/awareness'
import type * as Y from 'yjs'
import { fill, h } from '../dom'
import { t } from '../i18n'
import './board.css'
import { Announcer } from './announce'
import { Cursors } from './cursors'
import { pageAnnouncement, readOnlyMessage } from './describe'
import { downloadPng, downloadSvg, pngBlob, svgText } from './export'
import { Frames } from './frames'
import { insertImage } from './images'
import { BoardInput, type InputActions } from './input'
import { KeyCursor } from './keycursor'
import { boardKeys, boardShortcuts, type KeyActions } from './keys'
import type { BoardModel } from './model'
import { Outline, type OutlineActions } from './outline'
import { PagesBar } from './pages'
import { Scene } from './scene'
import { BoardSelection } from './selection'
import { BoardState, type TouchMode } from './state'
import { TextEditing } from './text'
import { Toolbar, type ToolbarActions } from './toolbar'
import { draws, STICKY_COLORS, type Tool } from './tools'
import { Viewport } from './viewport'

let boards = 0

export class Whiteboard {
  readonly root: HTMLElement
  private readonly state = new BoardState()
  private detachers: (() => void)[] = []

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
  private readonly viewport: Viewport
  private readonly selection: BoardSelection
  private readonly keyCursor: KeyCursor
  private readonly frames: Frames

  constructor() {
    const prefix = `board-${++boards}`
    this.scene = new Scene(this.state)
    this.help = h(
      'div.board-help',
      // focusable: it scrolls when the screen is short
      { id: `${prefix}-help`, hidden: true, tabindex: 0, role: 'region', 'aria-labelledby': `${prefix}-help-title` },
      h('h3', { id: `${prefix}-help-title` }, t('whiteboard.keys.title')),
      h('dl', null, boardShortcuts().flatMap(([keys, what]) => [h('dt', null, h('kbd', null, keys)), h('dd', null, what)])),
    )
    this.canvas = h('div.board-canvas', {
      tabindex: 0,
      role: 'application',
      'aria-label': t('whiteboard.canvas'),
      'aria-describedby': this.help.id,
      'aria-roledescription': t('whiteboard.roleDescription'),
    })
    this.canvas.appendChild(this.scene.svg)
    // The parts call back into the board through these, not through public methods.
    const actions: ToolbarActions & InputActions & KeyActions & OutlineActions = {
      setTool: (tool) => this.setTool(tool),
      setColor: (color) => this.setColor(color),
      setTouchMode: (mode) => this.setTouchMode(mode),
      select: (ids) => this.selection.select(ids),
      undo: () => this.undo(),
      redo: () => this.redo(),
      deleteSelection: () => this.selection.deleteSelected(),
      zoomAt: (factor, sx, sy) => this.viewport.zoomAt(factor, sx, sy),
      zoomBy: (factor) => this.viewport.zoomBy(factor),
      resetView: () => this.viewport.reset(),
      applyView: () => this.viewport.apply(),
      schedule: () => this.frames.schedule(),
      exportPng: () => downloadPng(this.state.pageShapes()),
      exportSvg: () => downloadSvg(this.state.pageShapes()),
      insertImage: () => void insertImage(this.state, this.canvas, (model, id) => this.selection.added(model, id)),
      toggleOutline: () => this.showOutline(!this.outline.open),
      toggleHelp: () => this.showHelp(this.help.hidden),
      letGo: () => this.selection.letGo(),
      selectAll: () => this.selection.selectAll(),
      selectNext: (step) => this.selection.selectNext(step),
      moveSelection: (dx, dy) => this.selection.move(dx, dy),
      moveCursor: (dx, dy) => this.keyCursor.move(dx, dy),
      activate: () => this.keyCursor.activate(),
      spaceHeld: (down) => this.input.holdSpace(down),
      choose: (id) => this.selection.choose(id),
      remove: (id) => this.selection.remove(id),
    }
    this.outline = new Outline(this.state, actions)
    this.toolbar = new Toolbar(this.state, actions, { outline: this.outline.root.id, help: this.help.id })
    this.pagesBar = new PagesBar(this.state, (page) => this.setPage(page))
    this.status = h('div.board-status')
    this.root = h(
      'section.board',
      { 'aria-label': t('whiteboard.board'), 'data-touch': this.state.touchMode },
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
    this.viewport = new Viewport(this.state, this.scene, this.toolbar, this.cursors)
    this.selection = new BoardSelection(this.state, this.scene, this.toolbar, this.outline, this.announcer, this.viewport)
    this.keyCursor = new KeyCursor(this.state, this.scene, this.canvas, this.text, this.selection, this.announcer, this.viewport)
    this.frames = new Frames(this.state, this.scene, this.outline, this.selection, this.viewport)
    boardKeys(this.canvas, actions)
    this.canvas.addEventListener('focus', () => this.keyCursor.keepInView())
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
      this.frames.noteChanges(model, events)
      this.frames.schedule()
    }
    const onPages = (): void => {
      this.pagesBar.draw()
      this.frames.changedAll()
      this.frames.schedule()
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
    this.frames.changedAll()
    this.frames.schedule()
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
    fill(this.status, state.readOnly ? h('span.badge.warn', { 'data-testid': 'whiteboard-readonly' }, readOnlyMessage(state.readOnlyReason)) : null)
  }

  destroy(): void {
    this.detach()
    this.frames.cancel()
    this.input.destroy()
  }

    // ---------------------------------------------------------------- tools and state

  private setTool(tool: Tool): void {
    if (this.state.readOnly && draws(tool)) return
    this.text.commit()
    this.state.tool = tool
    this.toolbar.showTool(tool)
    this.canvas.dataset.tool = tool
    if (tool !== 'select') this.selection.select([], false)
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
    this.announcer.say(t(mode === 'draw' ? 'whiteboard.touch.draw' : 'whiteboard.touch.scroll'))
  }

  private undo(): void {
    const model = this.state.model
    if (this.state.readOnly || !model) return
    model.undo.undo()
    this.selection.select(
      [...this.state.selection].filter((id) => this.state.model?.get(id)),
      false,
    )
  }

  private redo(): void {
    if (this.state.readOnly || !this.state.model) return
    this.state.model.undo.redo()
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

  private setPage(page: string): void {
    this.text.commit()
    const changed = page !== this.state.page
    this.state.page = page
    this.selection.select([], false)
    this.pagesBar.draw()
    this.frames.changedAll()
    this.frames.schedule()
    this.cursors.send(null)
    const model = this.state.model
    if (changed && model) {
      const pages = model.pageList()
      const index = pages.findIndex((p) => p.id === page)
      this.announcer.say(pageAnnouncement(pages[index]?.name ?? '', index + 1, pages.length, model.list(page).length))
    }
  }

  // ---------------------------------------------------------------- export

  exportSvgText(): string {
    return svgText(this.state.pageShapes())
  }

  async exportPngBlob(): Promise<Blob> {
    return await pngBlob(this.state.pageShapes())
  }

  shapeCount(): number {
    return this.state.pageShapes().length
  }
}
