// What the whiteboard's parts share: the document being drawn on, the chosen tool and pen,
// the page, the view (pan and zoom), the selection and the gesture in progress.

import type { Awareness } from 'y-protocols/awareness'
import { type BoardModel, DEFAULT_PAGE, type Shape, type ShapeType } from './model'
import { COLORS, type Tool } from './tools'

/** A pointer gesture in progress, from pointer down to pointer up. */
export type Drag =
  | { kind: 'pan'; sx: number; sy: number; ox: number; oy: number }
  | { kind: 'pen'; points: number[][] }
  | { kind: 'shape'; type: ShapeType; x0: number; y0: number; x1: number; y1: number }
  | { kind: 'move'; x0: number; y0: number; dx: number; dy: number; moved: boolean }
  | { kind: 'marquee'; x0: number; y0: number; x1: number; y1: number; additive: boolean }
  | { kind: 'erase'; erased: Set<string> }

/** What a one-finger touch on the board does: scroll the page (the default) or draw. */
export type TouchMode = 'scroll' | 'draw'

/** Screen offset and zoom: a board point (bx, by) is drawn at (x + bx * zoom, y + by * zoom). */
export interface View {
  x: number
  y: number
  zoom: number
}

/** The state one whiteboard's parts read and change; the ``Whiteboard`` owns it. */
export class BoardState {
  model: BoardModel | null = null
  awareness: Awareness | null = null
  tool: Tool = 'pen'
  color = COLORS[0][0]
  width = 4
  filled = false
  page = DEFAULT_PAGE
  view: View = { x: 0, y: 0, zoom: 1 }
  selection = new Set<string>()
  drag: Drag | null = null
  /** The keyboard cursor, in board coordinates: where keys add shapes. */
  cursor = { x: 80, y: 80 }
  touchMode: TouchMode = 'scroll'
  readOnly = false
  readOnlyReason = ''

  /** The shapes on the current page (none without a document). */
  pageShapes(): Shape[] {
    return this.model?.list(this.page) ?? []
  }
}
