// The whiteboard's tools and palette (what the toolbar offers and the keys that pick them),
// and the rounding every stored coordinate goes through.

export type Tool = 'select' | 'hand' | 'pen' | 'line' | 'arrow' | 'rect' | 'ellipse' | 'text' | 'sticky' | 'eraser'

export interface ToolInfo {
  id: Tool
  label: string
  key: string
  icon: string
  /** Whether the tool changes the document (so read-only viewers cannot pick it). */
  draws: boolean
}

export const TOOLS: ToolInfo[] = [
  { id: 'select', label: 'Select and move', key: 'v', icon: '⬚', draws: false },
  { id: 'hand', label: 'Pan', key: 'h', icon: '✥', draws: false },
  { id: 'pen', label: 'Pen', key: 'p', icon: '✎', draws: true },
  { id: 'line', label: 'Line', key: 'l', icon: '╱', draws: true },
  { id: 'arrow', label: 'Arrow', key: 'a', icon: '↗', draws: true },
  { id: 'rect', label: 'Rectangle', key: 'r', icon: '▭', draws: true },
  { id: 'ellipse', label: 'Ellipse', key: 'o', icon: '◯', draws: true },
  { id: 'text', label: 'Text', key: 't', icon: 'T', draws: true },
  { id: 'sticky', label: 'Sticky note', key: 's', icon: '▤', draws: true },
  { id: 'eraser', label: 'Eraser', key: 'e', icon: '⌫', draws: true },
]

export const COLORS: [string, string][] = [
  ['#1f2937', 'Black'],
  ['#dc2626', 'Red'],
  ['#ea580c', 'Orange'],
  ['#16a34a', 'Green'],
  ['#2563eb', 'Blue'],
  ['#7c3aed', 'Purple'],
  ['#db2777', 'Pink'],
  ['#ffffff', 'White'],
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

export const WIDTHS: [number, string][] = [
  [2, 'Thin'],
  [4, 'Medium'],
  [8, 'Thick'],
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
