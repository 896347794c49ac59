// Shapes -> SVG. The same functions draw the live board and the exported SVG/PNG.

import { getStroke } from 'perfect-freehand'
import { s } from '../dom'
import { imageSrc } from './fields'
import type { Shape } from './model'

export const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

let measure: CanvasRenderingContext2D | null = null

function textWidth(text: string, fontSize: number): number {
  measure ??= document.createElement('canvas').getContext('2d')
  if (!measure) return text.length * fontSize * 0.55
  measure.font = `${fontSize}px ${FONT}`
  return measure.measureText(text).width
}

/** Break ``text`` into lines no wider than ``width`` (explicit newlines kept). */
export function wrap(text: string, fontSize: number, width: number): string[] {
  const lines: string[] = []
  for (const paragraph of text.split('\n')) {
    let line = ''
    for (const word of paragraph.split(/(\s+)/)) {
      const candidate = line + word
      if (line && textWidth(candidate.trimEnd(), fontSize) > width) {
        lines.push(line.trimEnd())
        line = word.trimStart()
      } else {
        line = candidate
      }
    }
    lines.push(line)
  }
  return lines
}

/** The size a text shape needs for its content. */
export function measureText(text: string, fontSize: number): { w: number; h: number } {
  const lines = text.split('\n')
  const w = Math.max(20, ...lines.map((line) => textWidth(line, fontSize))) + 4
  return { w, h: lines.length * fontSize * 1.25 + 4 }
}

export function freehandPath(points: number[][], size: number): string {
  const outline = getStroke(points, { size, thinning: 0.5, smoothing: 0.5, streamline: 0.45, simulatePressure: true, last: true })
  if (!outline.length) return ''
  const d = outline.reduce(
    (acc: (string | number)[], [x0, y0], i, arr) => {
      const [x1, y1] = arr[(i + 1) % arr.length]
      acc.push(x0.toFixed(2), y0.toFixed(2), ((x0 + x1) / 2).toFixed(2), ((y0 + y1) / 2).toFixed(2))
      return acc
    },
    ['M', ...outline[0].map((n) => n.toFixed(2)), 'Q'],
  )
  return `${d.join(' ')} Z`
}

function textLines(lines: string[], x: number, y: number, fontSize: number, color: string, anchor = 'start'): SVGTextElement {
  const text = s('text', {
    x,
    y,
    fill: color,
    'font-size': fontSize,
    'font-family': FONT,
    'text-anchor': anchor,
    'dominant-baseline': 'hanging',
  })
  lines.forEach((line, i) => {
    const span = s('tspan', { x, y: y + i * fontSize * 1.25 })
    span.textContent = line || '\u00a0'
    text.appendChild(span)
  })
  return text
}

function arrowHead(points: number[][], width: number, color: string): SVGPathElement | null {
  if (points.length < 2) return null
  const [x2, y2] = points[points.length - 1]
  const [x1, y1] = points[points.length - 2]
  const angle = Math.atan2(y2 - y1, x2 - x1)
  const size = Math.max(10, width * 4)
  const a1 = angle + Math.PI - 0.45
  const a2 = angle + Math.PI + 0.45
  const d = `M ${x2} ${y2} L ${x2 + size * Math.cos(a1)} ${y2 + size * Math.sin(a1)} L ${x2 + size * Math.cos(a2)} ${y2 + size * Math.sin(a2)} Z`
  return s('path', { d, fill: color, stroke: color, 'stroke-width': 1, 'stroke-linejoin': 'round' })
}

/** One shape as an SVG group in board coordinates. */
export function renderShape(shape: Shape): SVGGElement {
  const stroke = shape.stroke ?? '#1f2937'
  const width = shape.strokeWidth ?? 2
  const group = s('g', { 'data-id': shape.id, 'data-type': shape.type, class: 'shape' })
  const w = shape.w ?? 0
  const h = shape.h ?? 0
  switch (shape.type) {
    case 'rect':
      group.appendChild(
        s('rect', { x: shape.x, y: shape.y, width: w, height: h, rx: 4, fill: shape.fill ?? 'none', stroke, 'stroke-width': width }),
      )
      break
    case 'ellipse':
      group.appendChild(
        s('ellipse', {
          cx: shape.x + w / 2,
          cy: shape.y + h / 2,
          rx: Math.abs(w / 2),
          ry: Math.abs(h / 2),
          fill: shape.fill ?? 'none',
          stroke,
          'stroke-width': width,
        }),
      )
      break
    case 'line':
    case 'arrow': {
      const pts = shape.points ?? []
      const inner = s('g', { transform: `translate(${shape.x} ${shape.y})` })
      inner.appendChild(
        s('polyline', {
          points: pts.map((p) => `${p[0]},${p[1]}`).join(' '),
          fill: 'none',
          stroke,
          'stroke-width': width,
          'stroke-linecap': 'round',
          'stroke-linejoin': 'round',
        }),
      )
      if (shape.type === 'arrow') inner.appendChild(arrowHead(pts, width, stroke) as SVGPathElement)
      group.appendChild(inner)
      break
    }
    case 'path': {
      const pts = shape.points ?? []
      group.appendChild(s('path', { d: freehandPath(pts, width * 2 + 2), fill: stroke, transform: `translate(${shape.x} ${shape.y})` }))
      break
    }
    case 'text': {
      const size = shape.fontSize ?? 20
      group.appendChild(textLines((shape.text ?? '').split('\n'), shape.x + 2, shape.y + 2, size, stroke))
      break
    }
    case 'sticky': {
      const size = shape.fontSize ?? 18
      group.appendChild(s('rect', { x: shape.x + 3, y: shape.y + 4, width: w, height: h, rx: 3, fill: 'rgba(0,0,0,0.12)' }))
      group.appendChild(s('rect', { x: shape.x, y: shape.y, width: w, height: h, rx: 3, fill: shape.fill ?? '#fff176', stroke: 'rgba(0,0,0,0.15)' }))
      const lines = wrap(shape.text ?? '', size, Math.max(10, w - 20))
      group.appendChild(textLines(lines, shape.x + 10, shape.y + 10, size, shape.stroke ?? '#1f2937'))
      break
    }
    case 'image': {
      // The image policy (./fields.ts imageSrc) is applied again here, where the href is set.
      const src = imageSrc(shape.src)
      if (shape.alt) {
        // The text alternative travels with the drawing (exported SVG included).
        const title = s('title')
        title.textContent = shape.alt
        group.appendChild(title)
      }
      if (src) group.appendChild(s('image', { href: src, x: shape.x, y: shape.y, width: w, height: h }))
      else group.appendChild(s('rect', { x: shape.x, y: shape.y, width: w, height: h, class: 'image-blocked', fill: '#f1f5f9', stroke: '#94a3b8', 'stroke-dasharray': '4 3' }))
      break
    }
  }
  if (shape.rotation) {
    const cx = shape.x + w / 2
    const cy = shape.y + h / 2
    group.setAttribute('transform', `rotate(${(shape.rotation * 180) / Math.PI} ${cx} ${cy})`)
  }
  return group
}

/** One shape's SVG, or null if drawing it fails: one bad shape never blanks the board. */
export function renderSafely(shape: Shape): SVGGElement | null {
  try {
    return renderShape(shape)
  } catch (error) {
    console.warn(`whiteboard: shape ${shape.id.slice(0, 64)} not drawn`, error)
    return null
  }
}
