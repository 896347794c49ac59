// Shapes in words, for the outline, the drawing's accessible name and announcements.

import { t } from '../i18n'
import type { Shape, ShapeType } from './model'
import { COLORS, STICKY_COLORS } from './tools'

/** A shape's kind in words ("Rectangle", "Sticky note"). */
export function kindName(type: ShapeType): string {
  return t(`whiteboard.kind.${type}`)
}

/** A shape kind's name inside a sentence (each language decides its own case). */
export function kindInSentence(type: ShapeType): string {
  return t(`whiteboard.kindInSentence.${type}`)
}

/** Where a shape is, in board units (plain digits, as the outline shows them). */
export function shapeAt(x: number, y: number): string {
  return t('whiteboard.shape.at', { x: String(Math.round(x)), y: String(Math.round(y)) })
}

/** The read-only notice, with why when known (``reason``, e.g. "the host locked the whiteboard"). */
export function readOnlyMessage(reason: string): string {
  return reason ? t('whiteboard.readOnly', { reason }) : t('whiteboard.readOnly.noReason')
}

/** A page's announcement when switched to: its name, where it is and how many shapes it holds. */
export function pageAnnouncement(name: string, index: number, pages: number, shapes: number): string {
  return t('whiteboard.page.announce', { name, index, pages, count: shapes })
}

/** The drawing's accessible name: the page, its shape count and its images' descriptions. */
export function drawingName(page: string, shapes: number, alts: string[] = []): string {
  const drawing = t('whiteboard.drawing', { page, count: shapes })
  return alts.length ? t('whiteboard.drawing.images', { drawing, alts: alts.join('; ') }) : drawing
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
    if (color === lower || STICKY_COLORS[color] === lower) return t(`whiteboard.colorInSentence.${name}`)
  }
  return null
}

/** What a shape is, in a few words: its kind and its text or alt text. */
export function shapeTitle(shape: Shape): string {
  const kind = kindName(shape.type)
  if (shape.type === 'text' || shape.type === 'sticky') return t('whiteboard.shape.withText', { kind, text: excerpt(shape.text ?? '') || t('whiteboard.shape.empty') })
  if (shape.type === 'image') return t('whiteboard.shape.withText', { kind, text: excerpt(shape.alt ?? '') || t('whiteboard.shape.noAlt') })
  const color = colorName(shape.stroke)
  return color ? t('whiteboard.shape.withColor', { kind, color }) : kind
}

/** The title plus where the shape is and how big, for the outline. */
export function shapeDetails(shape: Shape): string {
  const parts = [shapeAt(shape.x, shape.y)]
  if (shape.w !== undefined && shape.h !== undefined && shape.type !== 'text') {
    parts.push(t('whiteboard.shape.size', { w: String(Math.round(shape.w)), h: String(Math.round(shape.h)) }))
  }
  return parts.join(', ')
}
