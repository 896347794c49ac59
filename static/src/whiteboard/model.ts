// The whiteboard's data model on a Y.Doc, as docs/protocol.md "Collaborative documents"
// defines it: root Y.Map `shapes` (id -> Y.Map of fields) and Y.Map `meta`; this app adds a
// shape field `page` (a page id; absent = the first page, "default") and a root Y.Array
// `pages` of Y.Map {id, name} listing the pages after the first.

import * as Y from 'yjs'

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
  z: number
  author?: string
  page?: string
}

export const DEFAULT_PAGE = 'default'

export interface Page {
  id: string
  name: string
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

  static read(id: string, raw: unknown): Shape | null {
    const fields = raw instanceof Y.Map ? (raw.toJSON() as Record<string, unknown>) : (raw as Record<string, unknown>)
    if (!fields || typeof fields !== 'object' || typeof fields.type !== 'string') return null
    return {
      ...(fields as Partial<Shape>),
      id,
      type: fields.type as ShapeType,
      x: Number(fields.x ?? 0),
      y: Number(fields.y ?? 0),
      z: Number(fields.z ?? 0),
    }
  }

  get(id: string): Shape | null {
    const raw = this.shapes.get(id)
    return raw === undefined ? null : BoardModel.read(id, raw)
  }

  /** The shapes of ``page`` in painting order (z, then id). */
  list(page: string): Shape[] {
    const found: Shape[] = []
    this.shapes.forEach((raw, id) => {
      const shape = BoardModel.read(id, raw)
      if (shape && (shape.page ?? DEFAULT_PAGE) === page) found.push(shape)
    })
    return found.sort((a, b) => a.z - b.z || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  nextZ(): number {
    let top = 0
    this.shapes.forEach((raw, id) => {
      const shape = BoardModel.read(id, raw)
      if (shape && shape.z > top) top = shape.z
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

  pageList(): Page[] {
    const extra = this.pages
      .toArray()
      .map((entry) => ({ id: String(entry.get('id') ?? ''), name: String(entry.get('name') ?? '') }))
      .filter((page) => page.id && page.id !== DEFAULT_PAGE)
    const seen = new Set<string>()
    const pages = [{ id: DEFAULT_PAGE, name: 'Page 1' }]
    for (const page of extra) {
      if (seen.has(page.id)) continue
      seen.add(page.id)
      pages.push({ id: page.id, name: page.name || `Page ${pages.length + 1}` })
    }
    return pages
  }

  addPage(): string {
    const id = `page-${this.newId()}`
    const entry = new Y.Map<unknown>()
    entry.set('id', id)
    entry.set('name', `Page ${this.pageList().length + 1}`)
    this.transact(() => this.pages.push([entry]))
    return id
  }

  removePage(id: string): void {
    if (id === DEFAULT_PAGE) return
    this.transact(() => {
      const index = this.pages.toArray().findIndex((entry) => entry.get('id') === id)
      if (index >= 0) this.pages.delete(index, 1)
      for (const shape of this.list(id)) this.shapes.delete(shape.id)
    })
  }
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
