// The whiteboard's toolbar: tools, touch mode, colors, line width and fill, undo/redo/delete,
// zoom, export and the outline; it shows the board's state and hands every click to the
// board. It is one Tab stop (roving focus: arrow keys, Home and End move inside it), and
// wraps rather than running off a narrow screen, where the less used controls fold behind
// "More".

import { h } from '../dom'
import { t } from '../i18n'
import type { BoardState, TouchMode } from './state'
import { COLORS, type Tool, TOOLS, WIDTHS } from './tools'

/** What the toolbar's buttons do; the ``Whiteboard`` implements them. */
export interface ToolbarActions {
  setTool(tool: Tool): void
  setColor(color: string): void
  setTouchMode(mode: TouchMode): void
  insertImage(): void
  undo(): void
  redo(): void
  deleteSelection(): void
  zoomBy(factor: number): void
  resetView(): void
  exportPng(): Promise<void>
  exportSvg(): void
  toggleOutline(): void
  toggleHelp(): void
}

/** Whether this device has a touch screen (the touch mode switch is shown only there). */
export function touchDevice(): boolean {
  return navigator.maxTouchPoints > 0 || window.matchMedia('(any-pointer: coarse)').matches
}

export class Toolbar {
  readonly root: HTMLElement
  readonly outlineButton: HTMLButtonElement
  readonly helpButton: HTMLButtonElement
  private readonly zoomLabel: HTMLButtonElement
  private readonly undoButton: HTMLButtonElement
  private readonly redoButton: HTMLButtonElement
  private readonly deleteButton: HTMLButtonElement
  private readonly imageButton: HTMLButtonElement
  private readonly touchButton: HTMLButtonElement
  private readonly moreButton: HTMLButtonElement
  private readonly toolButtons = new Map<Tool, HTMLButtonElement>()
  private readonly colorButtons = new Map<string, HTMLButtonElement>()
  private readonly widthButtons = new Map<number, HTMLButtonElement>()

  /** Width and fill are set on ``state`` directly; everything else goes through ``actions``. */
  constructor(
    private readonly state: BoardState,
    actions: ToolbarActions,
    ids: { outline: string; help: string },
  ) {
    this.root = h('div.board-toolbar', { role: 'toolbar', 'aria-label': t('whiteboard.toolbar') })
    this.touchButton = h(
      'button.touch-mode',
      {
        type: 'button',
        'aria-pressed': String(state.touchMode === 'draw'),
        title: t('whiteboard.touchDraw.hint'),
        hidden: !touchDevice(),
        onclick: () => actions.setTouchMode(state.touchMode === 'draw' ? 'scroll' : 'draw'),
      },
      h('span', { 'aria-hidden': 'true' }, '☝'),
      t('whiteboard.touchDraw'),
    )
    const tools = h('div.toolbar-group', { role: 'group', 'aria-label': t('whiteboard.tools') })
    for (const tool of TOOLS) {
      const name = t('whiteboard.tool', { label: t(`whiteboard.tool.${tool.id}`), key: tool.key.toUpperCase() })
      const button = h(
        'button.tool',
        { type: 'button', 'aria-label': name, title: name, 'aria-pressed': 'false', dataset: { tool: tool.id }, onclick: () => actions.setTool(tool.id) },
        h('span', { 'aria-hidden': 'true' }, tool.icon),
      )
      this.toolButtons.set(tool.id, button)
      tools.appendChild(button)
    }
    this.imageButton = h(
      'button.tool',
      { type: 'button', 'aria-label': t('whiteboard.image'), title: t('whiteboard.image'), onclick: () => actions.insertImage() },
      h('span', { 'aria-hidden': 'true' }, '🖼'),
    )
    tools.appendChild(this.imageButton)

    const colors = h('div.swatches', { role: 'group', 'aria-label': t('whiteboard.colors') })
    for (const [value, name] of COLORS) {
      const button = h('button.swatch', {
        type: 'button',
        'aria-label': t('whiteboard.color', { name: t(`whiteboard.color.${name}`) }),
        title: t(`whiteboard.color.${name}`),
        'aria-pressed': 'false',
        style: `--swatch:${value}`,
        onclick: () => actions.setColor(value),
      })
      this.colorButtons.set(value, button)
      colors.appendChild(button)
    }
    colors.appendChild(
      h('input.color-input', {
        type: 'color',
        'aria-label': t('whiteboard.custom'),
        title: t('whiteboard.custom'),
        value: '#1f2937',
        oninput: (event: Event) => actions.setColor((event.target as HTMLInputElement).value),
      }),
    )
    const widths = h('div.toolbar-group', { role: 'group', 'aria-label': t('whiteboard.widths') })
    for (const [value, name] of WIDTHS) {
      const button = h(
        'button.width',
        {
          type: 'button',
          'aria-label': t(`whiteboard.width.${name}`),
          title: t(`whiteboard.width.${name}`),
          'aria-pressed': String(value === state.width),
          onclick: () => {
            state.width = value
            for (const [v, b] of this.widthButtons) b.setAttribute('aria-pressed', String(v === value))
          },
        },
        h('span.width-sample', { 'aria-hidden': 'true', style: `--w:${Math.max(1, value / 2)}px` }),
      )
      this.widthButtons.set(value, button)
      widths.appendChild(button)
    }
    const fillButton: HTMLButtonElement = h(
      'button',
      {
        type: 'button',
        'aria-pressed': String(state.filled),
        onclick: () => {
          state.filled = !state.filled
          fillButton.setAttribute('aria-pressed', String(state.filled))
        },
      },
      t('whiteboard.fill'),
    )
    this.undoButton = h('button', { type: 'button', 'aria-label': t('whiteboard.undo'), title: t('whiteboard.undo'), onclick: () => actions.undo() }, h('span', { 'aria-hidden': 'true' }, '↶'))
    this.redoButton = h('button', { type: 'button', 'aria-label': t('whiteboard.redo'), title: t('whiteboard.redo'), onclick: () => actions.redo() }, h('span', { 'aria-hidden': 'true' }, '↷'))
    this.deleteButton = h(
      'button',
      { type: 'button', 'aria-label': t('whiteboard.delete'), title: t('whiteboard.delete.title'), onclick: () => actions.deleteSelection() },
      h('span', { 'aria-hidden': 'true' }, '✕'),
    )
    this.zoomLabel = h('button.zoom-label', { type: 'button', 'aria-label': t('whiteboard.resetZoom', { zoom: '100%' }), title: t('whiteboard.resetZoom.title'), onclick: () => actions.resetView() }, '100%')
    const more = h(
      'div.toolbar-more',
      { id: `${ids.outline}-more` },
      colors,
      widths,
      fillButton,
      h('span.sep', { 'aria-hidden': 'true' }),
      this.undoButton,
      this.redoButton,
      this.deleteButton,
      h('span.sep', { 'aria-hidden': 'true' }),
      h('button', { type: 'button', 'aria-label': t('whiteboard.zoomOut'), title: t('whiteboard.zoomOut.title'), onclick: () => actions.zoomBy(1 / 1.25) }, h('span', { 'aria-hidden': 'true' }, '−')),
      this.zoomLabel,
      h('button', { type: 'button', 'aria-label': t('whiteboard.zoomIn'), title: t('whiteboard.zoomIn.title'), onclick: () => actions.zoomBy(1.25) }, h('span', { 'aria-hidden': 'true' }, '+')),
      h('span.sep', { 'aria-hidden': 'true' }),
      h(
        'div.toolbar-group',
        { role: 'group', 'aria-label': t('whiteboard.export') },
        h('button', { type: 'button', onclick: () => void actions.exportPng(), 'aria-label': t('whiteboard.export.png') }, 'PNG'),
        h('button', { type: 'button', onclick: () => actions.exportSvg(), 'aria-label': t('whiteboard.export.svg') }, 'SVG'),
      ),
    )
    this.moreButton = h(
      'button.toolbar-more-toggle',
      {
        type: 'button',
        'aria-expanded': 'false',
        'aria-controls': more.id,
        onclick: () => {
          const open = this.moreButton.getAttribute('aria-expanded') !== 'true'
          this.moreButton.setAttribute('aria-expanded', String(open))
          this.root.classList.toggle('expanded', open)
        },
      },
      t('whiteboard.more'),
    )
    this.outlineButton = h('button.outline-toggle', { type: 'button', 'aria-expanded': 'false', 'aria-controls': ids.outline, onclick: () => actions.toggleOutline() }, t('whiteboard.outline'))
    this.helpButton = h('button.help-toggle', { type: 'button', 'aria-expanded': 'false', 'aria-controls': ids.help, onclick: () => actions.toggleHelp() }, t('whiteboard.help'))
    this.root.append(this.touchButton, tools, this.moreButton, more, this.outlineButton, this.helpButton)
    this.root.addEventListener('keydown', (event) => this.roving(event))
    this.root.addEventListener('focusin', (event) => this.remember(event.target))
    this.refreshStop()
  }

  // ---------------------------------------------------------------- roving focus

  /** The controls arrow keys move between: shown and enabled, in document order. */
  private controls(): HTMLElement[] {
    return [...this.root.querySelectorAll<HTMLElement>('button, input, select')].filter(
      (el) => !(el as HTMLButtonElement).disabled && el.getClientRects().length > 0,
    )
  }

  private remember(target: EventTarget | null): void {
    if (!(target instanceof HTMLElement) || !this.root.contains(target)) return
    for (const el of this.root.querySelectorAll<HTMLElement>('button, input, select')) el.tabIndex = el === target ? 0 : -1
  }

  /** Keep exactly one control in the Tab order (the last one used, else the first). */
  refreshStop(): void {
    let controls = this.controls()
    // Not laid out (the board's tab is hidden): go by the controls' own state.
    if (!controls.length) {
      controls = [...this.root.querySelectorAll<HTMLElement>('button, input, select')].filter(
        (el) => !(el as HTMLButtonElement).disabled && !el.hidden && !el.closest('.toolbar-more'),
      )
    }
    const current = controls.find((el) => el.tabIndex === 0)
    this.remember(current ?? controls[0] ?? null)
  }

  private roving(event: KeyboardEvent): void {
    const keys = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End']
    if (!keys.includes(event.key) || event.altKey || event.ctrlKey || event.metaKey) return
    const controls = this.controls()
    const index = controls.indexOf(document.activeElement as HTMLElement)
    if (index < 0) return
    const forward = event.key === 'ArrowRight' || event.key === 'ArrowDown'
    const next =
      event.key === 'Home' ? 0 : event.key === 'End' ? controls.length - 1 : (index + (forward ? 1 : -1) + controls.length) % controls.length
    event.preventDefault()
    controls[next].focus()
  }

  // ---------------------------------------------------------------- state shown

  /** Mark ``tool`` as the chosen one. */
  showTool(tool: Tool): void {
    for (const [id, button] of this.toolButtons) button.setAttribute('aria-pressed', String(id === tool))
  }

  /** Mark ``color`` as the chosen swatch (none for a custom color). */
  showColor(color: string): void {
    for (const [value, button] of this.colorButtons) button.setAttribute('aria-pressed', String(value === color))
  }

  showTouchMode(mode: TouchMode): void {
    this.touchButton.setAttribute('aria-pressed', String(mode === 'draw'))
  }

  showZoom(zoom: number): void {
    const shown = `${Math.round(zoom * 100)}%`
    if (this.zoomLabel.textContent === shown) return
    this.zoomLabel.textContent = shown
    // The name holds the visible text (WCAG 2.5.3, label in name).
    this.zoomLabel.setAttribute('aria-label', t('whiteboard.resetZoom', { zoom: shown }))
  }

  /** Disable the tools that draw while the board is read-only. */
  showReadOnly(readOnly: boolean): void {
    for (const tool of TOOLS) {
      const button = this.toolButtons.get(tool.id)
      if (button && tool.draws) button.disabled = readOnly
    }
    this.imageButton.disabled = readOnly
    this.refreshStop()
  }

  /** Enable undo, redo and delete when there is something for them to do. */
  updateButtons(): void {
    const { model, readOnly, selection } = this.state
    const undo = model?.undo
    this.undoButton.disabled = readOnly || !undo || undo.undoStack.length === 0
    this.redoButton.disabled = readOnly || !undo || undo.redoStack.length === 0
    this.deleteButton.disabled = readOnly || selection.size === 0
    if (this.root.contains(document.activeElement) === false) this.refreshStop()
  }
}
