// The whiteboard's data model on a Y.Doc, as docs/protocol.md "Collaborative documents"
// defines it: root Y.Map `shapes` (id -> Y.Map of fields) and Y.Map `meta`; this app adds a
// shape field `page` (a page id; absent = the first page, "default") and a root Y.Array
// `pages` of Y.Map {id, name?} listing the pages after the first.

import * as Y from 'yjs'
import { t } from '../i18n'
import { color, fieldReader, imageSrc, MAX_ALT, MAX_COORD, MAX_ID, MAX_NAME, MAX_PAGES, MAX_TEXT, num, points, str } from './fields'

export type ShapeType = 'rect' | 'ellipse' | 'line' | 'arrow' | 'path' | 'text' | 'sticky' | 'image'

export interface Shape {
  id: string
  type: ShapeType
  x: number
  y: number
  w?: number
  h?: number
  points?: number[][]
  rotation?: number
  stroke?: string
  fill?: string | null
  strokeWidth?: number
  text?: string
  fontSize?: number
  src?: string
  /** An image's text alternative (empty: decorative); see docs/protocol.md. */
  alt?: string
  z: number
  author?: string
  page?: string
}

export const SHAPE_TYPES: ReadonlySet<ShapeType> = new Set(['rect', 'ellipse', 'line', 'arrow', 'path', 'text', 'sticky', 'image'])
/** The shapes drawn from `points`. */
const LINEAR: ReadonlySet<ShapeType> = new Set(['line', 'arrow', 'path'])
const MAX_Z = 1e12
const MAX_STROKE = 200
const MAX_FONT = 400

export const DEFAULT_PAGE = 'default'

export interface Page {
  id: string
  /** The stored name, or for a page without one "Page N" (its place) in the message language. */
  name: string
}

/** The name shown for the ``number``th page when the document stores none. Pages added by
 *  this app store no name (so each viewer reads it in their own language); documents from
 *  before hold English "Page N" names, which are shown as stored. */
function pageName(number: number): string {
  return t('whiteboard.page.name', { number })
}

let counter = 0

export class BoardModel {
  readonly shapes: Y.Map<Y.Map<unknown>>
  readonly meta: Y.Map<unknown>
  readonly pages: Y.Array<Y.Map<unknown>>
  /** Transactions of this browser's own edits carry this origin; undo tracks only them. */
  readonly origin = { local: true }
  readonly undo: Y.UndoManager

  constructor(
    readonly doc: Y.Doc,
    private readonly author: string,
  ) {
    this.shapes = doc.getMap('shapes')
    this.meta = doc.getMap('meta')
    this.pages = doc.getArray('pages')
    this.undo = new Y.UndoManager([this.shapes, this.pages], {
      trackedOrigins: new Set([this.origin]),
      captureTimeout: 400,
    })
  }

  transact(fn: () => void): void {
    this.doc.transact(fn, this.origin)
  }

  /**
   * One shape from its entry in `shapes`, read shallowly (./fields.ts): the known fields
   * only, each checked by type and range, so a hostile entry costs the same as a normal one
   * and never breaks the others. An entry that is not a shape (no known `type`, an id too
   * long) is `null`; a bad field falls back to its default.
   */
  static read(id: string, raw: unknown): Shape | null {
    if (typeof id !== 'string' || !id || id.length > MAX_ID) return null
    const get = fieldReader(raw)
    if (!get) return null
    const type = get('type')
    if (typeof type !== 'string' || !SHAPE_TYPES.has(type as ShapeType)) return null
    const shape: Shape = {
      id,
      type: type as ShapeType,
      x: num(get('x'), -MAX_COORD, MAX_COORD) ?? 0,
      y: num(get('y'), -MAX_COORD, MAX_COORD) ?? 0,
      z: num(get('z'), -MAX_Z, MAX_Z) ?? 0,
    }
    const w = num(get('w'), 0, MAX_COORD)
    if (w !== undefined) shape.w = w
    const h = num(get('h'), 0, MAX_COORD)
    if (h !== undefined) shape.h = h
    if (LINEAR.has(shape.type)) {
      const pts = points(get('points'))
      if (pts) shape.points = pts
    }
    const rotation = num(get('rotation'), -MAX_COORD, MAX_COORD)
    if (rotation) shape.rotation = rotation % (2 * Math.PI)
    const stroke = color(get('stroke'))
    if (stroke !== undefined) shape.stroke = stroke
    const fill = get('fill')
    if (fill === null) shape.fill = null
    else if (color(fill) !== undefined) shape.fill = fill as string
    const strokeWidth = num(get('strokeWidth'), 0, MAX_STROKE)
    if (strokeWidth !== undefined) shape.strokeWidth = strokeWidth
    if (shape.type === 'text' || shape.type === 'sticky') {
      const text = str(get('text'), MAX_TEXT, true)
      if (text !== undefined) shape.text = text
      const fontSize = num(get('fontSize'), 1, MAX_FONT)
      if (fontSize !== undefined) shape.fontSize = fontSize
    }
    if (shape.type === 'image') {
      const src = imageSrc(get('src'))
      if (src !== undefined) shape.src = src
      const alt = str(get('alt'), MAX_ALT, true)
      if (alt !== undefined) shape.alt = alt
    }
    const author = str(get('author'), MAX_ID)
    if (author !== undefined) shape.author = author
    const page = pageOf(raw)
    if (page !== DEFAULT_PAGE) shape.page = page
    return shape
  }

  get(id: string): Shape | null {
    const raw = this.shapes.get(id)
    return raw === undefined ? null : BoardModel.read(id, raw)
  }

  /** The shapes of ``page`` in painting order (z, then id). */
  list(page: string): Shape[] {
    const found: Shape[] = []
    this.shapes.forEach((raw, id) => {
      if (pageOf(raw) !== page) return
      const shape = BoardModel.read(id, raw)
      if (shape) found.push(shape)
    })
    return found.sort((a, b) => a.z - b.z || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  nextZ(): number {
    let top = 0
    this.shapes.forEach((raw) => {
      const z = num(fieldReader(raw)?.('z'), -MAX_Z, MAX_Z)
      if (z !== undefined && z > top) top = z
    })
    return top + 1
  }

  newId(): string {
    counter += 1
    return `${this.doc.clientID}-${Date.now().toString(36)}-${counter}`
  }

  add(fields: Omit<Shape, 'id' | 'z'> & { z?: number }): string {
    const id = this.newId()
    const entry = new Y.Map<unknown>()
    const full: Record<string, unknown> = { ...fields, z: fields.z ?? this.nextZ(), author: this.author }
    if (full.page === DEFAULT_PAGE) delete full.page
    for (const [key, value] of Object.entries(full)) {
      if (value !== undefined) entry.set(key, value)
    }
    this.transact(() => this.shapes.set(id, entry))
    return id
  }

  update(id: string, fields: Partial<Shape>): void {
    this.transact(() => this.write(id, fields))
  }

  updateMany(changes: [string, Partial<Shape>][]): void {
    this.transact(() => {
      for (const [id, fields] of changes) this.write(id, fields)
    })
  }

  private write(id: string, fields: Partial<Shape>): void {
    const raw = this.shapes.get(id)
    if (raw instanceof Y.Map) {
      for (const [key, value] of Object.entries(fields)) {
        if (key !== 'id') raw.set(key, value)
      }
    } else if (raw !== undefined) {
      // a plain JSON shape written by another client: replace it with a Y.Map
      const shape = BoardModel.read(id, raw)
      if (!shape) return
      const entry = new Y.Map<unknown>()
      for (const [key, value] of Object.entries({ ...shape, ...fields })) {
        if (key !== 'id' && value !== undefined) entry.set(key, value)
      }
      this.shapes.set(id, entry)
    }
  }

  remove(ids: Iterable<string>): void {
    this.transact(() => {
      for (const id of ids) this.shapes.delete(id)
    })
  }

  /** The pages: the first, then the `pages` entries with a valid id (read shallowly, capped),
   *  each with its stored name or else "Page N" by its place. */
  pageList(): Page[] {
    const seen = new Set<string>([DEFAULT_PAGE])
    const pages = [{ id: DEFAULT_PAGE, name: pageName(1) }]
    for (const entry of this.pages.toArray()) {
      if (pages.length >= MAX_PAGES) break
      const page = readPage(entry)
      if (!page || seen.has(page.id)) continue
      seen.add(page.id)
      pages.push({ id: page.id, name: page.name || pageName(pages.length + 1) })
    }
    return pages
  }

  addPage(): string {
    const id = `page-${this.newId()}`
    const entry = new Y.Map<unknown>()
    entry.set('id', id)
    this.transact(() => this.pages.push([entry]))
    return id
  }

  removePage(id: string): void {
    if (id === DEFAULT_PAGE) return
    this.transact(() => {
      const index = this.pages.toArray().findIndex((entry) => readPage(entry)?.id === id)
      if (index >= 0) this.pages.delete(index, 1)
      for (const shape of this.list(id)) this.shapes.delete(shape.id)
    })
  }
}

/** The page a `shapes` entry is on (absent or not a valid page id: the first page). */
function pageOf(raw: unknown): string {
  return str(fieldReader(raw)?.('page'), MAX_ID) || DEFAULT_PAGE
}

/** One `pages` entry (a Y.Map `{id, name}`, or the same as a plain object), or null. */
function readPage(entry: unknown): Page | null {
  const get = fieldReader(entry)
  if (!get) return null
  const id = str(get('id'), MAX_ID)
  if (!id || id === DEFAULT_PAGE) return null
  return { id, name: (str(get('name'), MAX_NAME, true) ?? '').trim() }
}

// ------------------------------------------------------------------ geometry

export interface Box {
  x: number
  y: number
  w: number
  h: number
}

export function bounds(shape: Shape): Box {
  if (shape.points && shape.points.length && ['line', 'arrow', 'path'].includes(shape.type)) {
    let minX = Infinity
    let minY = Infinity
    let maxX = -Infinity
    let maxY = -Infinity
    for (const [px, py] of shape.points) {
      minX = Math.min(minX, px)
      minY = Math.min(minY, py)
      maxX = Math.max(maxX, px)
      maxY = Math.max(maxY, py)
    }
    const pad = (shape.strokeWidth ?? 2) / 2 + (shape.type === 'arrow' ? (shape.strokeWidth ?? 2) * 3 : 0)
    return { x: shape.x + minX - pad, y: shape.y + minY - pad, w: maxX - minX + 2 * pad, h: maxY - minY + 2 * pad }
  }
  return { x: shape.x, y: shape.y, w: shape.w ?? 0, h: shape.h ?? 0 }
}

function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax
  const dy = by - ay
  const length = dx * dx + dy * dy
  const t = length ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / length)) : 0
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy))
}

/** Whether board point (px, py) touches ``shape`` within ``tolerance`` board units. */
export function hit(shape: Shape, px: number, py: number, tolerance: number): boolean {
  if (shape.points && ['line', 'arrow', 'path'].includes(shape.type)) {
    const reach = tolerance + (shape.strokeWidth ?? 2) / 2
    const pts = shape.points
    if (pts.length === 1) return Math.hypot(px - shape.x - pts[0][0], py - shape.y - pts[0][1]) <= reach
    for (let i = 1; i < pts.length; i++) {
      const d = segmentDistance(px, py, shape.x + pts[i - 1][0], shape.y + pts[i - 1][1], shape.x + pts[i][0], shape.y + pts[i][1])
      if (d <= reach) return true
    }
    return false
  }
  const box = bounds(shape)
  if (shape.type === 'ellipse') {
    const rx = box.w / 2 + tolerance
    const ry = box.h / 2 + tolerance
    const nx = (px - box.x - box.w / 2) / (rx || 1)
    const ny = (py - box.y - box.h / 2) / (ry || 1)
    return nx * nx + ny * ny <= 1
  }
  return px >= box.x - tolerance && px <= box.x + box.w + tolerance && py >= box.y - tolerance && py <= box.y + box.h + tolerance
}

export function intersects(a: Box, b: Box): boolean {
  return a.x <= b.x + b.w && b.x <= a.x + a.w && a.y <= b.y + b.h && b.y <= a.y + a.h
}
