// Shapes in words, for the outline, the drawing's accessible name and announcements.

import type { Shape, ShapeType } from './model'
import { COLORS, STICKY_COLORS } from './tools'

/** Interface strings of this module (one place, for the message catalogue). */
export const TEXT = {
  kinds: {
    rect: 'Rectangle',
    ellipse: 'Ellipse',
    line: 'Line',
    arrow: 'Arrow',
    path: 'Freehand drawing',
    text: 'Text',
    sticky: 'Sticky note',
    image: 'Image',
  } satisfies Record<ShapeType, string>,
  empty: 'empty',
  noAlt: 'no description',
  at: (x: number, y: number) => `at ${x}, ${y}`,
  size: (w: number, h: number) => `${w} by ${h}`,
  shapes: (n: number) => (n === 1 ? '1 shape' : `${n} shapes`),
  selected: (what: string) => `Selected: ${what}`,
  selectedMany: (n: number) => `${n} shapes selected`,
  nothingSelected: 'Nothing selected',
  page: (name: string, index: number, count: number, shapes: number) =>
    `${name} (page ${index} of ${count}), ${TEXT.shapes(shapes)}`,
  added: (what: string) => `Added ${what}`,
  deleted: (n: number) => (n === 1 ? 'Deleted 1 shape' : `Deleted ${n} shapes`),
  moved: (what: string) => `Moved ${what}`,
  drawingName: (page: string, shapes: number) => `Whiteboard drawing, ${page}: ${TEXT.shapes(shapes)}`,
  images: (alts: string[]) => `; images: ${alts.join('; ')}`,
}

const EXCERPT = 80

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > EXCERPT ? `${flat.slice(0, EXCERPT - 1)}…` : flat
}

/** The name of a palette color (a sticky note's paper counts as its pen color), if any. */
export function colorName(value: string | null | undefined): string | null {
  if (!value) return null
  const lower = value.toLowerCase()
  for (const [color, name] of COLORS) {
    if (color === lower || STICKY_COLORS[color] === lower) return name.toLowerCase()
  }
  return null
}

/** What a shape is, in a few words: its kind and its text or alt text. */
export function shapeTitle(shape: Shape): string {
  const kind = TEXT.kinds[shape.type]
  if (shape.type === 'text' || shape.type === 'sticky') return `${kind}: ${excerpt(shape.text ?? '') || TEXT.empty}`
  if (shape.type === 'image') return `${kind}: ${excerpt(shape.alt ?? '') || TEXT.noAlt}`
  const color = colorName(shape.stroke)
  return color ? `${kind}, ${color}` : kind
}

/** The title plus where the shape is and how big, for the outline. */
export function shapeDetails(shape: Shape): string {
  const parts = [TEXT.at(Math.round(shape.x), Math.round(shape.y))]
  if (shape.w !== undefined && shape.h !== undefined && shape.type !== 'text') parts.push(TEXT.size(Math.round(shape.w), Math.round(shape.h)))
  return parts.join(', ')
}
