// The whiteboard UI: tools, pointer input, rendering, cursors, pages, zoom/pan, export.

import type { Awareness } from 'y-protocols/awareness'
import { download, fill, h, s, toast, typingInField } from '../dom'
import { color as safeColor, fieldReader, MAX_COORD, MAX_ID, MAX_NAME, num, str } from './fields'
import { BoardModel, type Box, bounds, DEFAULT_PAGE, hit, intersects, type Shape, type ShapeType } from './model'
import { FONT, freehandPath, measureText, renderShape } from './render'

type Tool = 'select' | 'hand' | 'pen' | 'line' | 'arrow' | 'rect' | 'ellipse' | 'text' | 'sticky' | 'eraser'

const TOOLS: { id: Tool; label: string; key: string; icon: string; draws: boolean }[] = [
  { id: 'select', label: 'Select and move', key: 'v', icon: '⬚', draws: false },
  { id: 'hand', label: 'Pan', key: 'h', icon: '✥', draws: false },
  { id: 'pen', label: 'Pen', key: 'p', icon: '✎', draws: true },
  { id: 'line', label: 'Line', key: 'l', icon: '╱', draws: true },
  { id: 'arrow', label: 'Arrow', key: 'a', icon: '↗', draws: true },
  { id: 'rect', label: 'Rectangle', key: 'r', icon: '▭', draws: true },
  { id: 'ellipse', label: 'Ellipse', key: 'o', icon: '◯', draws: true },
  { id: 'text', label: 'Text', key: 't', icon: 'T', draws: true },
  { id: 'sticky', label: 'Sticky note', key: 's', icon: '▤', draws: true },
  { id: 'eraser', label: 'Eraser', key: 'e', icon: '⌫', draws: true },
]

const COLORS: [string, string][] = [
  ['#1f2937', 'Black'],
  ['#dc2626', 'Red'],
  ['#ea580c', 'Orange'],
  ['#16a34a', 'Green'],
  ['#2563eb', 'Blue'],
  ['#7c3aed', 'Purple'],
  ['#db2777', 'Pink'],
  ['#ffffff', 'White'],
]
const STICKY_COLORS: Record<string, string> = {
  '#1f2937': '#fff176',
  '#dc2626': '#ffcdd2',
  '#ea580c': '#ffe0b2',
  '#16a34a': '#c8e6c9',
  '#2563eb': '#bbdefb',
  '#7c3aed': '#e1bee7',
  '#db2777': '#f8bbd0',
  '#ffffff': '#ffffff',
}
const WIDTHS: [number, string][] = [
  [2, 'Thin'],
  [4, 'Medium'],
  [8, 'Thick'],
]

type Drag =
  | { kind: 'pan'; sx: number; sy: number; ox: number; oy: number }
  | { kind: 'pen'; points: number[][] }
  | { kind: 'shape'; type: ShapeType; x0: number; y0: number; x1: number; y1: number }
  | { kind: 'move'; x0: number; y0: number; dx: number; dy: number; moved: boolean }
  | { kind: 'marquee'; x0: number; y0: number; x1: number; y1: number; additive: boolean }
  | { kind: 'erase'; erased: Set<string> }

export class Whiteboard {
  readonly root: HTMLElement
  private model: BoardModel | null = null
  private awareness: Awareness | null = null
  private tool: Tool = 'pen'
  private color = COLORS[0][0]
  private width = 4
  private filled = false
  private page = DEFAULT_PAGE
  private view = { x: 0, y: 0, zoom: 1 }
  private selection = new Set<string>()
  private drag: Drag | null = null
  private readOnly = false
  private readOnlyReason = ''
  private frame = 0
  private cursorTimer = 0
  private spaceDown = false
  private editing: { textarea: HTMLTextAreaElement; commit: () => void } | null = null
  private detachers: (() => void)[] = []

  private readonly svg: SVGSVGElement
  private readonly viewport: SVGGElement
  private readonly shapesLayer: SVGGElement
  private readonly previewLayer: SVGGElement
  private readonly selectionLayer: SVGGElement
  private readonly cursorLayer: SVGGElement
  private readonly canvas: HTMLElement
  private readonly toolbar: HTMLElement
  private readonly pagesBar: HTMLElement
  private readonly status: HTMLElement
  private readonly zoomLabel: HTMLButtonElement
  private readonly undoButton: HTMLButtonElement
  private readonly redoButton: HTMLButtonElement
  private readonly deleteButton: HTMLButtonElement
  private readonly toolButtons = new Map<Tool, HTMLButtonElement>()
  private readonly colorButtons = new Map<string, HTMLButtonElement>()

  constructor() {
    this.svg = s('svg', { class: 'board-svg', role: 'img', 'aria-label': 'Whiteboard drawing area', 'data-shapes': 0 })
    this.viewport = s('g', { class: 'viewport' })
    this.shapesLayer = s('g', { class: 'shapes' })
    this.previewLayer = s('g', { class: 'preview' })
    this.selectionLayer = s('g', { class: 'selection' })
    this.cursorLayer = s('g', { class: 'cursors' })
    this.viewport.append(this.shapesLayer, this.previewLayer, this.selectionLayer, this.cursorLayer)
    this.svg.appendChild(this.viewport)

    this.canvas = h('div.board-canvas', {
      tabindex: 0,
      role: 'application',
      'aria-label': 'Whiteboard. Tools: V select, H pan, P pen, L line, A arrow, R rectangle, O ellipse, T text, S sticky note, E eraser; Ctrl+Z undo, Ctrl+Shift+Z redo, Delete removes the selection, plus and minus zoom.',
      'aria-roledescription': 'whiteboard',
    })
    this.canvas.appendChild(this.svg)

    this.toolbar = h('div.board-toolbar', { role: 'toolbar', 'aria-label': 'Whiteboard tools' })
    for (const tool of TOOLS) {
      const button = h(
        'button.tool',
        {
          type: 'button',
          'aria-label': `${tool.label} (${tool.key.toUpperCase()})`,
          title: `${tool.label} (${tool.key.toUpperCase()})`,
          'aria-pressed': 'false',
          dataset: { tool: tool.id },
          onclick: () => this.setTool(tool.id),
        },
        tool.icon,
      )
      this.toolButtons.set(tool.id, button)
      this.toolbar.appendChild(button)
    }
    const colors = h('div.swatches', { role: 'group', 'aria-label': 'Color' })
    for (const [value, name] of COLORS) {
      const button = h('button.swatch', {
        type: 'button',
        'aria-label': `Color ${name}`,
        title: name,
        'aria-pressed': 'false',
        style: `--swatch:${value}`,
        onclick: () => this.setColor(value),
      })
      this.colorButtons.set(value, button)
      colors.appendChild(button)
    }
    const custom = h('input.color-input', {
      type: 'color',
      'aria-label': 'Custom color',
      value: '#1f2937',
      oninput: (event: Event) => this.setColor((event.target as HTMLInputElement).value),
    })
    colors.appendChild(custom)
    const widthSelect = h(
      'select',
      {
        'aria-label': 'Line width',
        onchange: (event: Event) => {
          this.width = Number((event.target as HTMLSelectElement).value)
        },
      },
      WIDTHS.map(([value, name]) => h('option', { value, selected: value === this.width }, name)),
    )
    const fillToggle = h('label.check', null, h('input', {
      type: 'checkbox',
      onchange: (event: Event) => {
        this.filled = (event.target as HTMLInputElement).checked
      },
    }), 'Fill')
    this.undoButton = h('button', { type: 'button', 'aria-label': 'Undo (Ctrl+Z)', title: 'Undo (Ctrl+Z)', onclick: () => this.undo() }, '↶')
    this.redoButton = h('button', { type: 'button', 'aria-label': 'Redo (Ctrl+Shift+Z)', title: 'Redo (Ctrl+Shift+Z)', onclick: () => this.redo() }, '↷')
    this.deleteButton = h(
      'button',
      { type: 'button', 'aria-label': 'Delete selected shapes', title: 'Delete (Del)', onclick: () => this.deleteSelection() },
      '✕',
    )
    this.zoomLabel = h('button.zoom-label', { type: 'button', 'aria-label': 'Reset zoom', title: 'Reset zoom (0)', onclick: () => this.resetView() }, '100%')
    const exportMenu = h(
      'div.row.tight',
      { role: 'group', 'aria-label': 'Export' },
      h('button', { type: 'button', onclick: () => void this.exportPng(), 'aria-label': 'Export page as PNG' }, 'PNG'),
      h('button', { type: 'button', onclick: () => this.exportSvg(), 'aria-label': 'Export page as SVG' }, 'SVG'),
    )
    this.toolbar.append(
      colors,
      widthSelect,
      fillToggle,
      h('span.sep', { 'aria-hidden': 'true' }),
      this.undoButton,
      this.redoButton,
      this.deleteButton,
      h('span.sep', { 'aria-hidden': 'true' }),
      h('button', { type: 'button', 'aria-label': 'Zoom out', title: 'Zoom out (-)', onclick: () => this.zoomBy(1 / 1.25) }, '−'),
      this.zoomLabel,
      h('button', { type: 'button', 'aria-label': 'Zoom in', title: 'Zoom in (+)', onclick: () => this.zoomBy(1.25) }, '+'),
      h('span.sep', { 'aria-hidden': 'true' }),
      exportMenu,
    )
    this.pagesBar = h('div.board-pages', { role: 'tablist', 'aria-label': 'Whiteboard pages' })
    this.status = h('div.board-status', { role: 'status', 'aria-live': 'polite' })
    this.root = h('section.board', { 'aria-label': 'Whiteboard' }, this.toolbar, this.pagesBar, this.status, this.canvas)

    this.bindInput()
    this.setTool('pen')
    this.setColor(this.color)
    this.updateStatus()
  }

  /** Bind to a (new) document; view state, tool and page are kept. */
  attach(model: BoardModel, awareness: Awareness): void {
    this.detach()
    this.model = model
    this.awareness = awareness
    this.selection.clear()
    const onShapes = (): void => this.schedule()
    const onPages = (): void => this.renderPages()
    const onCursors = (): void => this.renderCursors()
    const onStack = (): void => this.updateButtons()
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
    this.renderPages()
    this.schedule()
    this.updateButtons()
  }

  detach(): void {
    for (const undo of this.detachers) undo()
    this.detachers = []
    this.model = null
    this.awareness = null
  }

  setReadOnly(readOnly: boolean, reason = ''): void {
    const changed = readOnly !== this.readOnly
    this.readOnly = readOnly
    this.readOnlyReason = reason
    if (readOnly) {
      this.cancelEditing()
      this.drag = null
      this.previewLayer.replaceChildren()
      if (TOOLS.find((t) => t.id === this.tool)?.draws) this.setTool('select')
    }
    this.root.classList.toggle('read-only', readOnly)
    for (const tool of TOOLS) {
      const button = this.toolButtons.get(tool.id)
      if (button && tool.draws) button.disabled = readOnly
    }
    this.updateButtons()
    this.updateStatus()
    if (changed) this.renderPages()
  }

  private updateStatus(): void {
    fill(
      this.status,
      this.readOnly
        ? h('span.badge.warn', { 'data-testid': 'whiteboard-readonly' }, `Read-only: ${this.readOnlyReason || 'you cannot draw on this whiteboard'}`)
        : null,
    )
  }

  destroy(): void {
    this.detach()
    window.cancelAnimationFrame(this.frame)
    window.removeEventListener('keyup', this.onKeyUp)
  }

  // ---------------------------------------------------------------- tools and state

  private setTool(tool: Tool): void {
    if (this.readOnly && TOOLS.find((t) => t.id === tool)?.draws) return
    this.cancelEditing()
    this.tool = tool
    for (const [id, button] of this.toolButtons) button.setAttribute('aria-pressed', String(id === tool))
    this.canvas.dataset.tool = tool
    if (tool !== 'select') this.select([])
  }

  private setColor(color: string): void {
    this.color = color
    for (const [value, button] of this.colorButtons) button.setAttribute('aria-pressed', String(value === color))
    if (this.selection.size && this.model && !this.readOnly) {
      this.model.updateMany(
        [...this.selection].map((id) => {
          const shape = this.model?.get(id)
          return [id, shape?.type === 'sticky' ? { fill: STICKY_COLORS[color] ?? color } : { stroke: color }]
        }),
      )
    }
  }

  private select(ids: Iterable<string>): void {
    this.selection = new Set(ids)
    this.renderSelection()
    this.updateButtons()
  }

  private updateButtons(): void {
    const undo = this.model?.undo
    this.undoButton.disabled = this.readOnly || !undo || undo.undoStack.length === 0
    this.redoButton.disabled = this.readOnly || !undo || undo.redoStack.length === 0
    this.deleteButton.disabled = this.readOnly || this.selection.size === 0
  }

  private undo(): void {
    if (this.readOnly || !this.model) return
    this.model.undo.undo()
    this.select([...this.selection].filter((id) => this.model?.get(id)))
  }

  private redo(): void {
    if (this.readOnly || !this.model) return
    this.model.undo.redo()
  }

  private deleteSelection(): void {
    if (this.readOnly || !this.model || !this.selection.size) return
    this.model.remove(this.selection)
    this.select([])
  }

  // ---------------------------------------------------------------- view

  private toBoard(clientX: number, clientY: number): [number, number] {
    const rect = this.svg.getBoundingClientRect()
    return [(clientX - rect.left - this.view.x) / this.view.zoom, (clientY - rect.top - this.view.y) / this.view.zoom]
  }

  private applyView(): void {
    this.viewport.setAttribute('transform', `translate(${this.view.x} ${this.view.y}) scale(${this.view.zoom})`)
    this.zoomLabel.textContent = `${Math.round(this.view.zoom * 100)}%`
    this.svg.style.backgroundSize = `${24 * this.view.zoom}px ${24 * this.view.zoom}px`
    this.svg.style.backgroundPosition = `${this.view.x}px ${this.view.y}px`
    this.renderCursors()
  }

  private zoomAt(factor: number, sx: number, sy: number): void {
    const zoom = Math.min(8, Math.max(0.1, this.view.zoom * factor))
    const bx = (sx - this.view.x) / this.view.zoom
    const by = (sy - this.view.y) / this.view.zoom
    this.view = { x: sx - bx * zoom, y: sy - by * zoom, zoom }
    this.applyView()
  }

  private zoomBy(factor: number): void {
    const rect = this.svg.getBoundingClientRect()
    this.zoomAt(factor, rect.width / 2, rect.height / 2)
  }

  private resetView(): void {
    this.view = { x: 0, y: 0, zoom: 1 }
    this.applyView()
  }

  private setPage(page: string): void {
    this.cancelEditing()
    this.page = page
    this.select([])
    this.renderPages()
    this.schedule()
    this.sendCursor(null)
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
    const model = this.model
    if (!model) return
    const shapes = model.list(this.page)
    // one by one, not replaceChildren(...all): a board can hold more shapes than a call has arguments
    const drawn = document.createDocumentFragment()
    for (const shape of shapes) {
      const el = renderSafely(shape)
      if (el) drawn.appendChild(el)
    }
    this.shapesLayer.replaceChildren(drawn)
    this.svg.setAttribute('data-shapes', String(shapes.length))
    this.svg.setAttribute('aria-label', `Whiteboard drawing area, ${model.pageList().find((p) => p.id === this.page)?.name ?? ''}: ${shapes.length} shapes`)
    const alive = new Set(shapes.map((shape) => shape.id))
    if ([...this.selection].some((id) => !alive.has(id))) this.select([...this.selection].filter((id) => alive.has(id)))
    else this.renderSelection()
    this.applyView()
  }

  private renderSelection(): void {
    const model = this.model
    this.selectionLayer.replaceChildren()
    if (!model) return
    const drag = this.drag?.kind === 'move' ? this.drag : null
    for (const id of this.selection) {
      const shape = model.get(id)
      if (!shape) continue
      const box = bounds(shape)
      const pad = 4 / this.view.zoom
      this.selectionLayer.appendChild(
        s('rect', {
          x: box.x - pad + (drag?.dx ?? 0),
          y: box.y - pad + (drag?.dy ?? 0),
          width: box.w + 2 * pad,
          height: box.h + 2 * pad,
          class: 'selection-box',
          'stroke-width': 1.5 / this.view.zoom,
          'stroke-dasharray': `${4 / this.view.zoom} ${3 / this.view.zoom}`,
        }),
      )
    }
  }

  private renderPages(): void {
    const model = this.model
    if (!model) return
    const pages = model.pageList()
    if (!pages.some((p) => p.id === this.page)) this.page = DEFAULT_PAGE
    fill(
      this.pagesBar,
      pages.map((page) =>
        h(
          'button.page-tab',
          {
            type: 'button',
            role: 'tab',
            'aria-selected': String(page.id === this.page),
            onclick: () => this.setPage(page.id),
          },
          page.name,
        ),
      ),
      this.readOnly
        ? null
        : h('button', { type: 'button', 'aria-label': 'Add a page', title: 'Add a page', onclick: () => this.setPage(model.addPage()) }, '+ Page'),
      this.readOnly || this.page === DEFAULT_PAGE
        ? null
        : h(
            'button',
            {
              type: 'button',
              'aria-label': 'Delete this page',
              title: 'Delete this page',
              onclick: () => {
                model.removePage(this.page)
                this.setPage(DEFAULT_PAGE)
              },
            },
            'Delete page',
          ),
    )
  }

  private renderCursors(): void {
    const awareness = this.awareness
    this.cursorLayer.replaceChildren()
    if (!awareness) return
    const scale = 1 / this.view.zoom
    awareness.getStates().forEach((state, clientId) => {
      if (clientId === awareness.clientID) return
      // Awareness states are whatever another client sent: read the known fields shallowly.
      const cursor = fieldReader(state.cursor)
      const user = fieldReader(state.user)
      if (!cursor || !user || (str(cursor('page'), MAX_ID) ?? DEFAULT_PAGE) !== this.page) return
      const x = num(cursor('x'), -MAX_COORD, MAX_COORD)
      const y = num(cursor('y'), -MAX_COORD, MAX_COORD)
      const name = str(user('name'), MAX_NAME, true)
      if (x === undefined || y === undefined || !name) return
      const color = safeColor(user('color')) ?? '#2563eb'
      const label = s('g', { transform: `translate(14 18)` })
      const width = name.length * 7.5 + 12
      label.append(
        s('rect', { x: 0, y: 0, width, height: 20, rx: 4, fill: color }),
        (() => {
          const text = s('text', { x: 6, y: 14, fill: '#fff', 'font-size': 12, 'font-family': FONT })
          text.textContent = name
          return text
        })(),
      )
      const group = s(
        'g',
        { class: 'remote-cursor', 'data-cursor': name, transform: `translate(${x} ${y}) scale(${scale})` },
        s('path', { d: 'M0 0 L0 16 L4.5 12 L8 19 L10.5 18 L7 11 L13 11 Z', fill: color, stroke: '#fff', 'stroke-width': 1 }),
        label,
      )
      this.cursorLayer.appendChild(group)
    })
  }

  private renderPreview(): void {
    const drag = this.drag
    this.previewLayer.replaceChildren()
    if (!drag) return
    if (drag.kind === 'pen' && drag.points.length) {
      this.previewLayer.appendChild(s('path', { d: freehandPath(drag.points, this.width * 2 + 2), fill: this.color }))
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
          'stroke-width': 1 / this.view.zoom,
        }),
      )
    } else if (drag.kind === 'move') {
      for (const id of this.selection) {
        const el = this.shapesLayer.querySelector<SVGGElement>(`[data-id="${CSS.escape(id)}"]`)
        el?.setAttribute('transform', `translate(${drag.dx} ${drag.dy})`)
      }
      this.renderSelection()
    }
  }

  private shapeFromDrag(drag: Extract<Drag, { kind: 'shape' }>): Omit<Shape, 'id' | 'z'> | null {
    const base = { stroke: this.color, strokeWidth: this.width, page: this.page }
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
      fill: this.filled ? withAlpha(this.color) : null,
    }
  }

  // ---------------------------------------------------------------- input

  private bindInput(): void {
    const svg = this.svg
    svg.addEventListener('pointerdown', (event) => this.pointerDown(event))
    svg.addEventListener('pointermove', (event) => this.pointerMove(event))
    svg.addEventListener('pointerup', (event) => this.pointerUp(event))
    svg.addEventListener('pointercancel', () => {
      this.drag = null
      this.renderPreview()
    })
    svg.addEventListener('pointerleave', () => this.sendCursor(null))
    svg.addEventListener('dblclick', (event) => {
      const [bx, by] = this.toBoard(event.clientX, event.clientY)
      const target = this.hitTop(bx, by)
      if (target && (target.type === 'text' || target.type === 'sticky') && !this.readOnly) this.editText(target)
    })
    svg.addEventListener(
      'wheel',
      (event) => {
        event.preventDefault()
        const rect = svg.getBoundingClientRect()
        if (event.ctrlKey || event.metaKey) {
          this.zoomAt(Math.exp(-event.deltaY / 300), event.clientX - rect.left, event.clientY - rect.top)
        } else {
          this.view = { ...this.view, x: this.view.x - event.deltaX, y: this.view.y - event.deltaY }
          this.applyView()
        }
      },
      { passive: false },
    )
    this.canvas.addEventListener('keydown', (event) => this.keyDown(event))
    window.addEventListener('keyup', this.onKeyUp)
  }

  private onKeyUp = (event: KeyboardEvent): void => {
    if (event.key === ' ') this.spaceDown = false
  }

  private keyDown(event: KeyboardEvent): void {
    if (typingInField(event.target)) return
    const key = event.key.toLowerCase()
    const mod = event.ctrlKey || event.metaKey
    if (mod && key === 'z') {
      event.preventDefault()
      if (event.shiftKey) this.redo()
      else this.undo()
      return
    }
    if (mod && key === 'y') {
      event.preventDefault()
      this.redo()
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
      this.deleteSelection()
      return
    }
    if (key === 'escape') {
      this.select([])
      return
    }
    if (key === '+' || key === '=') return this.zoomBy(1.25)
    if (key === '-') return this.zoomBy(1 / 1.25)
    if (key === '0') return this.resetView()
    const arrows: Record<string, [number, number]> = { arrowleft: [-1, 0], arrowright: [1, 0], arrowup: [0, -1], arrowdown: [0, 1] }
    if (key in arrows) {
      event.preventDefault()
      const [dx, dy] = arrows[key]
      const step = event.shiftKey ? 20 : 4
      if (this.selection.size && !this.readOnly && this.model) {
        const model = this.model
        model.updateMany(
          [...this.selection].flatMap((id): [string, Partial<Shape>][] => {
            const shape = model.get(id)
            return shape ? [[id, { x: shape.x + dx * step, y: shape.y + dy * step }]] : []
          }),
        )
      } else {
        this.view = { ...this.view, x: this.view.x - dx * step * 5, y: this.view.y - dy * step * 5 }
        this.applyView()
      }
      return
    }
    const tool = TOOLS.find((t) => t.key === key)
    if (tool) {
      event.preventDefault()
      this.setTool(tool.id)
    }
  }

  private hitTop(bx: number, by: number): Shape | null {
    const shapes = this.model?.list(this.page) ?? []
    const tolerance = 6 / this.view.zoom
    for (let i = shapes.length - 1; i >= 0; i--) if (hit(shapes[i], bx, by, tolerance)) return shapes[i]
    return null
  }

  private pointerDown(event: PointerEvent): void {
    if (this.editing) {
      this.editing.commit()
      return
    }
    this.canvas.focus({ preventScroll: true })
    if (event.button !== 0 && event.button !== 1) return
    this.svg.setPointerCapture(event.pointerId)
    const [bx, by] = this.toBoard(event.clientX, event.clientY)
    const tool = this.tool
    if (event.button === 1 || tool === 'hand' || this.spaceDown) {
      this.drag = { kind: 'pan', sx: event.clientX, sy: event.clientY, ox: this.view.x, oy: this.view.y }
      return
    }
    if (tool === 'select') {
      const target = this.hitTop(bx, by)
      if (target) {
        if (event.shiftKey) {
          const next = new Set(this.selection)
          if (next.has(target.id)) next.delete(target.id)
          else next.add(target.id)
          this.select(next)
        } else if (!this.selection.has(target.id)) {
          this.select([target.id])
        }
        if (!this.readOnly) this.drag = { kind: 'move', x0: bx, y0: by, dx: 0, dy: 0, moved: false }
      } else {
        this.drag = { kind: 'marquee', x0: bx, y0: by, x1: bx, y1: by, additive: event.shiftKey }
      }
      return
    }
    if (this.readOnly) {
      toast(`The whiteboard is read-only: ${this.readOnlyReason}`, 'info', 3000)
      return
    }
    switch (tool) {
      case 'pen':
        this.drag = { kind: 'pen', points: [[bx, by]] }
        break
      case 'line':
      case 'arrow':
      case 'rect':
      case 'ellipse':
        this.drag = { kind: 'shape', type: tool, x0: bx, y0: by, x1: bx, y1: by }
        break
      case 'eraser':
        this.drag = { kind: 'erase', erased: new Set() }
        this.eraseAt(bx, by)
        break
      case 'text':
        event.preventDefault()
        this.newText(bx, by)
        break
      case 'sticky':
        event.preventDefault()
        this.newSticky(bx, by)
        break
    }
    this.renderPreview()
  }

  private pointerMove(event: PointerEvent): void {
    const [bx, by] = this.toBoard(event.clientX, event.clientY)
    this.sendCursor({ x: bx, y: by })
    const drag = this.drag
    if (!drag) return
    switch (drag.kind) {
      case 'pan':
        this.view = { ...this.view, x: drag.ox + event.clientX - drag.sx, y: drag.oy + event.clientY - drag.sy }
        this.applyView()
        return
      case 'pen': {
        const last = drag.points[drag.points.length - 1]
        if (Math.hypot(bx - last[0], by - last[1]) * this.view.zoom >= 1.5) drag.points.push([bx, by])
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
        drag.moved ||= Math.hypot(drag.dx, drag.dy) * this.view.zoom > 2
        break
      case 'marquee':
        drag.x1 = bx
        drag.y1 = by
        break
      case 'erase':
        this.eraseAt(bx, by)
        return
    }
    this.renderPreview()
  }

  private pointerUp(event: PointerEvent): void {
    const drag = this.drag
    this.drag = null
    if (this.svg.hasPointerCapture(event.pointerId)) this.svg.releasePointerCapture(event.pointerId)
    this.previewLayer.replaceChildren()
    const model = this.model
    if (!drag || !model) return
    switch (drag.kind) {
      case 'pen': {
        if (this.readOnly) return
        const xs = drag.points.map((p) => p[0])
        const ys = drag.points.map((p) => p[1])
        const x = Math.min(...xs)
        const y = Math.min(...ys)
        const points = drag.points.map(([px, py]) => [round(px - x), round(py - y)])
        model.add({ type: 'path', x: round(x), y: round(y), points, stroke: this.color, strokeWidth: this.width, page: this.page })
        break
      }
      case 'shape': {
        if (this.readOnly) return
        const shape = this.shapeFromDrag(drag)
        const size = Math.hypot(drag.x1 - drag.x0, drag.y1 - drag.y0) * this.view.zoom
        if (shape && size >= 3) model.add(shape)
        break
      }
      case 'move':
        if (drag.moved && !this.readOnly) {
          model.updateMany(
            [...this.selection].flatMap((id): [string, Partial<Shape>][] => {
              const shape = model.get(id)
              return shape ? [[id, { x: round(shape.x + drag.dx), y: round(shape.y + drag.dy) }]] : []
            }),
          )
        }
        this.schedule()
        break
      case 'marquee': {
        const box: Box = { x: Math.min(drag.x0, drag.x1), y: Math.min(drag.y0, drag.y1), w: Math.abs(drag.x1 - drag.x0), h: Math.abs(drag.y1 - drag.y0) }
        const inside = model.list(this.page).filter((shape) => intersects(box, bounds(shape))).map((shape) => shape.id)
        this.select(drag.additive ? [...this.selection, ...inside] : inside)
        break
      }
      default:
        break
    }
  }

  private eraseAt(bx: number, by: number): void {
    const drag = this.drag
    const model = this.model
    if (!model || drag?.kind !== 'erase' || this.readOnly) return
    const target = this.hitTop(bx, by)
    if (target && !drag.erased.has(target.id)) {
      drag.erased.add(target.id)
      model.remove([target.id])
    }
  }

  private sendCursor(point: { x: number; y: number } | null): void {
    const awareness = this.awareness
    if (!awareness) return
    window.clearTimeout(this.cursorTimer)
    this.cursorTimer = window.setTimeout(() => {
      awareness.setLocalStateField('cursor', point ? { x: round(point.x), y: round(point.y), page: this.page } : null)
    }, 30)
  }

  // ---------------------------------------------------------------- text

  private newText(bx: number, by: number): void {
    this.openEditor({ x: bx, y: by, w: 240, h: 40 }, '', 20, false, (text) => {
      if (!text.trim() || !this.model) return
      const size = measureText(text, 20)
      this.model.add({ type: 'text', x: round(bx), y: round(by), w: size.w, h: size.h, text, fontSize: 20, stroke: this.color, page: this.page })
    })
  }

  private newSticky(bx: number, by: number): void {
    const model = this.model
    if (!model) return
    const id = model.add({
      type: 'sticky',
      x: round(bx - 100),
      y: round(by - 80),
      w: 200,
      h: 160,
      text: '',
      fontSize: 18,
      fill: STICKY_COLORS[this.color] ?? '#fff176',
      stroke: '#1f2937',
      page: this.page,
    })
    const shape = model.get(id)
    if (shape) this.editText(shape)
  }

  private editText(shape: Shape): void {
    const box = { x: shape.x, y: shape.y, w: Math.max(shape.w ?? 200, 120), h: Math.max(shape.h ?? 40, 40) }
    this.openEditor(box, shape.text ?? '', shape.fontSize ?? 20, shape.type === 'sticky', (text) => {
      const model = this.model
      if (!model || !model.get(shape.id)) return
      if (shape.type === 'text') {
        if (!text.trim()) model.remove([shape.id])
        else model.update(shape.id, { text, ...measureText(text, shape.fontSize ?? 20) })
      } else {
        model.update(shape.id, { text })
      }
    }, shape.fill ?? undefined)
  }

  private openEditor(box: Box, text: string, fontSize: number, sticky: boolean, done: (text: string) => void, background?: string): void {
    this.cancelEditing()
    const zoom = this.view.zoom
    const textarea = h('textarea.board-text', {
      'aria-label': sticky ? 'Sticky note text' : 'Text',
      placeholder: sticky ? 'Write a note…' : 'Type text…',
      style: [
        `left:${this.view.x + box.x * zoom}px`,
        `top:${this.view.y + box.y * zoom}px`,
        `width:${box.w * zoom}px`,
        `height:${box.h * zoom}px`,
        `font-size:${fontSize * zoom}px`,
        sticky ? `padding:${8 * zoom}px;background:${background ?? '#fff176'}` : `color:${this.color}`,
      ].join(';'),
    })
    textarea.value = text
    let finished = false
    const commit = (): void => {
      if (finished) return
      finished = true
      this.editing = null
      const value = textarea.value
      textarea.remove()
      done(value)
      this.canvas.focus({ preventScroll: true })
    }
    textarea.addEventListener('keydown', (event) => {
      event.stopPropagation()
      if (event.key === 'Escape' || (event.key === 'Enter' && (event.ctrlKey || event.metaKey))) {
        event.preventDefault()
        commit()
      }
    })
    textarea.addEventListener('blur', commit)
    this.editing = { textarea, commit }
    this.canvas.appendChild(textarea)
    window.setTimeout(() => textarea.focus(), 0)
  }

  private cancelEditing(): void {
    this.editing?.commit()
  }

  // ---------------------------------------------------------------- export

  private exportDocument(): { svg: SVGSVGElement; width: number; height: number } {
    const shapes = this.model?.list(this.page) ?? []
    let box: Box = { x: 0, y: 0, w: 800, h: 600 }
    if (shapes.length) {
      // loops, not Math.min(...all): a board can hold more shapes than a call has arguments
      let [x, y, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity]
      for (const b of shapes.map(bounds)) {
        x = Math.min(x, b.x)
        y = Math.min(y, b.y)
        x2 = Math.max(x2, b.x + b.w)
        y2 = Math.max(y2, b.y + b.h)
      }
      box = { x: x - 24, y: y - 24, w: x2 - x + 48, h: y2 - y + 48 }
    }
    const svg = s('svg', {
      xmlns: 'http://www.w3.org/2000/svg',
      viewBox: `${box.x} ${box.y} ${box.w} ${box.h}`,
      width: Math.ceil(box.w),
      height: Math.ceil(box.h),
    })
    svg.appendChild(s('rect', { x: box.x, y: box.y, width: box.w, height: box.h, fill: '#ffffff' }))
    for (const shape of shapes) {
      const el = renderSafely(shape)
      if (el) svg.appendChild(el)
    }
    return { svg, width: Math.ceil(box.w), height: Math.ceil(box.h) }
  }

  exportSvgText(): string {
    return new XMLSerializer().serializeToString(this.exportDocument().svg)
  }

  private exportSvg(): void {
    download('whiteboard.svg', this.exportSvgText(), 'image/svg+xml')
  }

  async exportPngBlob(): Promise<Blob> {
    const { width, height } = this.exportDocument()
    const url = URL.createObjectURL(new Blob([this.exportSvgText()], { type: 'image/svg+xml' }))
    try {
      const image = new Image()
      image.src = url
      await image.decode()
      const scale = Math.min(2, 8192 / Math.max(width, height))
      const canvas = document.createElement('canvas')
      canvas.width = Math.max(1, Math.round(width * scale))
      canvas.height = Math.max(1, Math.round(height * scale))
      const context = canvas.getContext('2d') as CanvasRenderingContext2D
      context.drawImage(image, 0, 0, canvas.width, canvas.height)
      return await new Promise<Blob>((resolve, reject) =>
        canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('PNG export failed'))), 'image/png'),
      )
    } finally {
      URL.revokeObjectURL(url)
    }
  }

  private async exportPng(): Promise<void> {
    try {
      download('whiteboard.png', await this.exportPngBlob())
    } catch (error) {
      toast(`Could not export PNG: ${String(error)}`, 'error')
    }
  }

  shapeCount(): number {
    return this.model?.list(this.page).length ?? 0
  }
}

/** One shape's SVG, or null if drawing it fails: one bad shape never blanks the board. */
function renderSafely(shape: Shape): SVGGElement | null {
  try {
    return renderShape(shape)
  } catch (error) {
    console.warn(`whiteboard: shape ${shape.id.slice(0, 64)} not drawn`, error)
    return null
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}

function withAlpha(color: string): string {
  if (/^#[0-9a-f]{6}$/i.test(color)) return `${color}33`
  return color
}
