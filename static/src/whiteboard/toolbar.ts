// The whiteboard's toolbar: tool buttons, colors, line width and fill, undo/redo/delete, zoom
// and export; it shows the board's state and hands every click to the board.

import { h } from '../dom'
import type { BoardState } from './state'
import { COLORS, type Tool, TOOLS, WIDTHS } from './tools'

/** What the toolbar's buttons do; the ``Whiteboard`` implements them. */
export interface ToolbarActions {
  setTool(tool: Tool): void
  setColor(color: string): void
  undo(): void
  redo(): void
  deleteSelection(): void
  zoomBy(factor: number): void
  resetView(): void
  exportPng(): Promise<void>
  exportSvg(): void
}

export class Toolbar {
  readonly root: HTMLElement
  private readonly zoomLabel: HTMLButtonElement
  private readonly undoButton: HTMLButtonElement
  private readonly redoButton: HTMLButtonElement
  private readonly deleteButton: HTMLButtonElement
  private readonly toolButtons = new Map<Tool, HTMLButtonElement>()
  private readonly colorButtons = new Map<string, HTMLButtonElement>()

  /** Width and fill are set on ``state`` directly; everything else goes through ``actions``. */
  constructor(
    private readonly state: BoardState,
    actions: ToolbarActions,
  ) {
    this.root = h('div.board-toolbar', { role: 'toolbar', 'aria-label': 'Whiteboard tools' })
    for (const tool of TOOLS) {
      const button = h(
        'button.tool',
        {
          type: 'button',
          'aria-label': `${tool.label} (${tool.key.toUpperCase()})`,
          title: `${tool.label} (${tool.key.toUpperCase()})`,
          'aria-pressed': 'false',
          dataset: { tool: tool.id },
          onclick: () => actions.setTool(tool.id),
        },
        tool.icon,
      )
      this.toolButtons.set(tool.id, button)
      this.root.appendChild(button)
    }
    const colors = h('div.swatches', { role: 'group', 'aria-label': 'Color' })
    for (const [value, name] of COLORS) {
      const button = h('button.swatch', {
        type: 'button',
        'aria-label': `Color ${name}`,
        title: name,
        'aria-pressed': 'false',
        style: `--swatch:${value}`,
        onclick: () => actions.setColor(value),
      })
      this.colorButtons.set(value, button)
      colors.appendChild(button)
    }
    const custom = h('input.color-input', {
      type: 'color',
      'aria-label': 'Custom color',
      value: '#1f2937',
      oninput: (event: Event) => actions.setColor((event.target as HTMLInputElement).value),
    })
    colors.appendChild(custom)
    const widthSelect = h(
      'select',
      {
        'aria-label': 'Line width',
        onchange: (event: Event) => {
          state.width = Number((event.target as HTMLSelectElement).value)
        },
      },
      WIDTHS.map(([value, name]) => h('option', { value, selected: value === state.width }, name)),
    )
    const fillToggle = h('label.check', null, h('input', {
      type: 'checkbox',
      onchange: (event: Event) => {
        state.filled = (event.target as HTMLInputElement).checked
      },
    }), 'Fill')
    this.undoButton = h('button', { type: 'button', 'aria-label': 'Undo (Ctrl+Z)', title: 'Undo (Ctrl+Z)', onclick: () => actions.undo() }, '↶')
    this.redoButton = h('button', { type: 'button', 'aria-label': 'Redo (Ctrl+Shift+Z)', title: 'Redo (Ctrl+Shift+Z)', onclick: () => actions.redo() }, '↷')
    this.deleteButton = h(
      'button',
      { type: 'button', 'aria-label': 'Delete selected shapes', title: 'Delete (Del)', onclick: () => actions.deleteSelection() },
      '✕',
    )
    this.zoomLabel = h('button.zoom-label', { type: 'button', 'aria-label': 'Reset zoom', title: 'Reset zoom (0)', onclick: () => actions.resetView() }, '100%')
    const exportMenu = h(
      'div.row.tight',
      { role: 'group', 'aria-label': 'Export' },
      h('button', { type: 'button', onclick: () => void actions.exportPng(), 'aria-label': 'Export page as PNG' }, 'PNG'),
      h('button', { type: 'button', onclick: () => actions.exportSvg(), 'aria-label': 'Export page as SVG' }, 'SVG'),
    )
    this.root.append(
      colors,
      widthSelect,
      fillToggle,
      h('span.sep', { 'aria-hidden': 'true' }),
      this.undoButton,
      this.redoButton,
      this.deleteButton,
      h('span.sep', { 'aria-hidden': 'true' }),
      h('button', { type: 'button', 'aria-label': 'Zoom out', title: 'Zoom out (-)', onclick: () => actions.zoomBy(1 / 1.25) }, '−'),
      this.zoomLabel,
      h('button', { type: 'button', 'aria-label': 'Zoom in', title: 'Zoom in (+)', onclick: () => actions.zoomBy(1.25) }, '+'),
      h('span.sep', { 'aria-hidden': 'true' }),
      exportMenu,
    )
  }

  /** Mark ``tool`` as the chosen one. */
  showTool(tool: Tool): void {
    for (const [id, button] of this.toolButtons) button.setAttribute('aria-pressed', String(id === tool))
  }

  /** Mark ``color`` as the chosen swatch (none for a custom color). */
  showColor(color: string): void {
    for (const [value, button] of this.colorButtons) button.setAttribute('aria-pressed', String(value === color))
  }

  showZoom(zoom: number): void {
    this.zoomLabel.textContent = `${Math.round(zoom * 100)}%`
  }

  /** Disable the tools that draw while the board is read-only. */
  showReadOnly(readOnly: boolean): void {
    for (const tool of TOOLS) {
      const button = this.toolButtons.get(tool.id)
      if (button && tool.draws) button.disabled = readOnly
    }
  }

  /** Enable undo, redo and delete when there is something for them to do. */
  updateButtons(): void {
    const { model, readOnly, selection } = this.state
    const undo = model?.undo
    this.undoButton.disabled = readOnly || !undo || undo.undoStack.length === 0
    this.redoButton.disabled = readOnly || !undo || undo.redoStack.length === 0
    this.deleteButton.disabled = readOnly || selection.size === 0
  }
}
