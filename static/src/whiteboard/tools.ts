// The whiteboard's tools and palette (what the toolbar offers and the keys that pick them),
// and the rounding every stored coordinate goes through.

export type Tool = 'select' | 'hand' | 'pen' | 'line' | 'arrow' | 'rect' | 'ellipse' | 'text' | 'sticky' | 'eraser'

export type ColorName = 'black' | 'red' | 'orange' | 'green' | 'blue' | 'purple' | 'pink' | 'white'
export type WidthName = 'thin' | 'medium' | 'thick'

export interface ToolInfo {
  /** Also names the tool: the message ``whiteboard.tool.<id>``. */
  id: Tool
  key: string
  icon: string
  /** Whether the tool changes the document (so read-only viewers cannot pick it). */
  draws: boolean
}

export const TOOLS: ToolInfo[] = [
  { id: 'select', key: 'v', icon: '⬚', draws: false },
  { id: 'hand', key: 'h', icon: '✥', draws: false },
  { id: 'pen', key: 'p', icon: '✎', draws: true },
  { id: 'line', key: 'l', icon: '╱', draws: true },
  { id: 'arrow', key: 'a', icon: '↗', draws: true },
  { id: 'rect', key: 'r', icon: '▭', draws: true },
  { id: 'ellipse', key: 'o', icon: '◯', draws: true },
  { id: 'text', key: 't', icon: 'T', draws: true },
  { id: 'sticky', key: 's', icon: '▤', draws: true },
  { id: 'eraser', key: 'e', icon: '⌫', draws: true },
]

/** The palette: a color and its name (the message ``whiteboard.color.<name>``). */
export const COLORS: [string, ColorName][] = [
  ['#1f2937', 'black'],
  ['#dc2626', 'red'],
  ['#ea580c', 'orange'],
  ['#16a34a', 'green'],
  ['#2563eb', 'blue'],
  ['#7c3aed', 'purple'],
  ['#db2777', 'pink'],
  ['#ffffff', 'white'],
]

/** The sticky-note paper that goes with each pen color. */
export const STICKY_COLORS: Record<string, string> = {
  '#1f2937': '#fff176',
  '#dc2626': '#ffcdd2',
  '#ea580c': '#ffe0b2',
  '#16a34a': '#c8e6c9',
  '#2563eb': '#bbdefb',
  '#7c3aed': '#e1bee7',
  '#db2777': '#f8bbd0',
  '#ffffff': '#ffffff',
}

/** Line widths and their names (the message ``whiteboard.width.<name>``). */
export const WIDTHS: [number, WidthName][] = [
  [2, 'thin'],
  [4, 'medium'],
  [8, 'thick'],
]

/** Whether ``tool`` changes the document. */
export function draws(tool: Tool): boolean {
  return TOOLS.find((t) => t.id === tool)?.draws ?? false
}

/** A board coordinate as stored: one decimal is plenty and keeps updates small. */
export function round(n: number): number {
  return Math.round(n * 10) / 10
}

/** The translucent fill of a filled shape drawn in ``color``. */
export function withAlpha(color: string): string {
  if (/^#[0-9a-f]{6}$/i.test(color)) return `${color}33`
  return color
}
