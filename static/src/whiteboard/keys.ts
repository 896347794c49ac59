// The board from the keyboard (the board has focus; text fields keep their keys). Arrow keys
// move the selection, or with nothing selected the keyboard cursor; Enter adds the chosen
// tool's shape at the cursor or edits the selected text; N and Shift+N walk the shapes;
// Delete removes, Escape lets go. The list of keys is boardShortcuts(), shown in the board's help.

import { typingInField } from '../dom'
import { t } from '../i18n'
import { TOOLS, type Tool } from './tools'

/** The board's keys, [keys, what they do], in the message language: the one list behind the
 *  board's keys help and the whiteboard part of the room's shortcuts dialog. */
export function boardShortcuts(): [string, string][] {
  return [
    [t('whiteboard.keys.arrows'), t('whiteboard.keys.arrows.what')],
    [t('whiteboard.keys.enter'), t('whiteboard.keys.enter.what')],
    [t('whiteboard.keys.next'), t('whiteboard.keys.next.what')],
    [t('whiteboard.keys.all'), t('whiteboard.keys.all.what')],
    [t('whiteboard.keys.delete'), t('whiteboard.keys.delete.what')],
    [t('whiteboard.keys.escape'), t('whiteboard.keys.escape.what')],
    [TOOLS.map((tool) => tool.key.toUpperCase()).join(' '), t('whiteboard.keys.tools.what')],
    ['I', t('whiteboard.keys.image.what')],
    ['Ctrl+Z, Ctrl+Shift+Z', t('whiteboard.keys.undo.what')],
    ['+, −, 0', t('whiteboard.keys.zoom.what')],
    [t('whiteboard.keys.pan'), t('whiteboard.keys.pan.what')],
  ]
}

/** What keys ask of the board; the ``Whiteboard`` implements them. */
export interface KeyActions {
  setTool(tool: Tool): void
  undo(): void
  redo(): void
  deleteSelection(): void
  zoomBy(factor: number): void
  resetView(): void
  /** Clear the selection; false when there was none. */
  letGo(): boolean
  selectAll(): void
  selectNext(step: 1 | -1): void
  /** Move the selection by (dx, dy) board units; false when nothing is selected. */
  moveSelection(dx: number, dy: number): boolean
  moveCursor(dx: number, dy: number): void
  /** Enter: edit the selection or add at the cursor. */
  activate(): void
  insertImage(): void
  /** Whether Space is held (the next drag pans). */
  spaceHeld(down: boolean): void
}

const ARROWS: Record<string, [number, number]> = { arrowleft: [-1, 0], arrowright: [1, 0], arrowup: [0, -1], arrowdown: [0, 1] }

export function boardKeys(canvas: HTMLElement, actions: KeyActions): void {
  canvas.addEventListener('keydown', (event) => {
    if (event.target !== canvas || typingInField(event.target)) return
    if (handle(event, actions)) event.preventDefault()
  })
}

/** Act on one key press; true when the key was the board's. */
function handle(event: KeyboardEvent, actions: KeyActions): boolean {
  const key = event.key.toLowerCase()
  const mod = event.ctrlKey || event.metaKey
  if (mod && key === 'z') {
    if (event.shiftKey) actions.redo()
    else actions.undo()
    return true
  }
  if (mod && key === 'y') {
    actions.redo()
    return true
  }
  if (mod && key === 'a') {
    actions.selectAll()
    return true
  }
  if (mod || event.altKey) return false
  if (key in ARROWS) {
    const [dx, dy] = ARROWS[key]
    const step = event.shiftKey ? 20 : 4
    if (!actions.moveSelection(dx * step, dy * step)) actions.moveCursor(dx * step * 5, dy * step * 5)
    return true
  }
  switch (key) {
    case ' ':
      actions.spaceHeld(true)
      return true
    case 'delete':
    case 'backspace':
      actions.deleteSelection()
      return true
    case 'escape':
      if (!actions.letGo()) actions.setTool('select')
      return true
    case 'enter':
      actions.activate()
      return true
    case 'n':
      actions.selectNext(event.shiftKey ? -1 : 1)
      return true
    case 'i':
      actions.insertImage()
      return true
    case '+':
    case '=':
      actions.zoomBy(1.25)
      return true
    case '-':
      actions.zoomBy(1 / 1.25)
      return true
    case '0':
      actions.resetView()
      return true
  }
  const tool = TOOLS.find((t) => t.key === key)
  if (tool && !event.shiftKey) {
    actions.setTool(tool.id)
    return true
  }
  return false
}
