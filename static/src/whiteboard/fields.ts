// Reading the shared whiteboard safely. Anyone who may write the document can store anything
// in it (a field nested thousands of levels deep, a 200,000-element array, a `javascript:`
// image), so the app reads it shallowly: only the fields it knows, each with one `get`, each
// checked by type and range. Nothing here recurses into a value from the document or calls
// `toJSON` on it, so how deep or big a hostile value is does not matter: it is ignored.

import * as Y from 'yjs'

/** Board coordinates beyond this are clamped (board units, CSS px at zoom 1). */
export const MAX_COORD = 1_000_000
/** Points read of a line, arrow or freehand path; the rest are not drawn. */
export const MAX_POINTS = 10_000
/** Characters of a text or sticky note that are read. */
export const MAX_TEXT = 10_000
/** Characters of an image's alt text that are read. */
export const MAX_ALT = 1_000
/** Characters of a shape id, page id, page name or author. */
export const MAX_ID = 256
export const MAX_NAME = 100
/** Characters of an image `src` (a data: URL of an image the size an update can carry). */
export const MAX_SRC = 2_000_000
/** Pages listed in the page bar. */
export const MAX_PAGES = 100

/** A plain JSON object (a shape or page written as one value rather than as a Y.Map). */
type Plain = Record<string, unknown>

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Y.AbstractType)
}

/** A reader of one entry's fields: a Y.Map (`get`) or a plain object (own properties only). */
export type FieldReader = (key: string) => unknown

export function fieldReader(raw: unknown): FieldReader | null {
  if (raw instanceof Y.Map) return (key) => raw.get(key)
  if (isPlain(raw)) return (key) => (Object.hasOwn(raw, key) ? raw[key] : undefined)
  return null
}

/** A finite number (a BigInt as well, as Yjs decodes 64-bit integers) clamped to [min, max];
 * anything else is `undefined`. */
export function num(value: unknown, min: number, max: number): number | undefined {
  if (typeof value === 'bigint') value = Number(value)
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined
  return Math.min(max, Math.max(min, value))
}

/** A string of at most `max` characters (`truncate`: cut to `max` instead of refused). */
export function str(value: unknown, max: number, truncate = false): string | undefined {
  if (typeof value !== 'string') return undefined
  if (value.length <= max) return value
  return truncate ? value.slice(0, max) : undefined
}

// A CSS color for an SVG presentation attribute: hex, rgb()/hsl() with plain numbers, or a
// named color. No url(), var() or anything else that could reference another resource.
const HEX = /^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i
const FUNCTIONAL = /^(?:rgba?|hsla?)\([0-9.,%\s/+-]{1,60}\)$/i
const NAMED = /^[a-z]{3,24}$/i

export function color(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 80) return undefined
  return HEX.test(value) || FUNCTIONAL.test(value) || NAMED.test(value) ? value : undefined
}

/** `[[x, y], …]`: at most MAX_POINTS pairs of finite numbers (clamped); other entries dropped. */
export function points(value: unknown): number[][] | undefined {
  if (!Array.isArray(value)) return undefined
  const found: number[][] = []
  const n = Math.min(value.length, MAX_POINTS)
  for (let i = 0; i < n; i++) {
    const entry: unknown = value[i]
    if (!Array.isArray(entry) || entry.length < 2) continue
    const x = num(entry[0], -MAX_COORD, MAX_COORD)
    const y = num(entry[1], -MAX_COORD, MAX_COORD)
    if (x !== undefined && y !== undefined) found.push([x, y])
  }
  return found
}

// The whiteboard image policy (docs/protocol.md, "Whiteboard images"): an image is drawn only
// from a base64 data: URL of a PNG, JPEG, GIF or WebP image, or from a path on this origin
// (the page's CSP allows img-src 'self' data: blob:). Anything else, javascript:, http(s) to
// another host, protocol-relative `//host`, SVG data, is never put into an href.
const DATA_IMAGE = /^data:image\/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]*$/
const SAME_ORIGIN_PATH = /^\/(?![/\\])[^\s\\]*$/

export function imageSrc(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > MAX_SRC) return undefined
  if (DATA_IMAGE.test(value)) return value
  if (!SAME_ORIGIN_PATH.test(value) || value.length > 2048) return undefined
  try {
    const url = new URL(value, location.origin)
    return url.origin === location.origin ? url.pathname + url.search + url.hash : undefined
  } catch {
    return undefined
  }
}
