// A page of the board as a standalone SVG or PNG image (white background, fitted to the
// shapes with a margin), drawn by the same functions as the live board; and downloading it.

import { download, s, toast } from '../dom'
import { t } from '../i18n'
import { type Box, bounds, type Shape } from './model'
import { renderSafely } from './render'

/** The SVG of ``shapes`` and its size in pixels. */
export function exportDocument(shapes: Shape[]): { svg: SVGSVGElement; width: number; height: number } {
  let box: Box = { x: 0, y: 0, w: 800, h: 600 }
  if (shapes.length) {
    // loops, not Math.min(...all): a board can hold more shapes than a call has arguments
    let [x, y, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity]
    for (const b of shapes.map(bounds)) {
      x = Math.min(x, b.x)
      y = Math.min(y, b.y)
      x2 = Math.max(x2, b.x + b.w)
      y2 = Math.max(y2, b.y + b.h)
    }
    box = { x: x - 24, y: y - 24, w: x2 - x + 48, h: y2 - y + 48 }
  }
  const svg = s('svg', {
    xmlns: 'http://www.w3.org/2000/svg',
    viewBox: `${box.x} ${box.y} ${box.w} ${box.h}`,
    width: Math.ceil(box.w),
    height: Math.ceil(box.h),
  })
  svg.appendChild(s('rect', { x: box.x, y: box.y, width: box.w, height: box.h, fill: '#ffffff' }))
  for (const shape of shapes) {
    const el = renderSafely(shape)
    if (el) svg.appendChild(el)
  }
  return { svg, width: Math.ceil(box.w), height: Math.ceil(box.h) }
}

/** ``shapes`` as SVG source text. */
export function svgText(shapes: Shape[]): string {
  return new XMLSerializer().serializeToString(exportDocument(shapes).svg)
}

/** ``shapes`` as a PNG, at twice their size unless that would pass 8192 pixels a side. */
export async function pngBlob(shapes: Shape[]): Promise<Blob> {
  const { width, height } = exportDocument(shapes)
  const url = URL.createObjectURL(new Blob([svgText(shapes)], { type: 'image/svg+xml' }))
  try {
    const image = new Image()
    image.src = url
    await image.decode()
    const scale = Math.min(2, 8192 / Math.max(width, height))
    const canvas = document.createElement('canvas')
    canvas.width = Math.max(1, Math.round(width * scale))
    canvas.height = Math.max(1, Math.round(height * scale))
    const context = canvas.getContext('2d') as CanvasRenderingContext2D
    context.drawImage(image, 0, 0, canvas.width, canvas.height)
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('PNG export failed'))), 'image/png'),
    )
  } finally {
    URL.revokeObjectURL(url)
  }
}

/** Download ``shapes`` as whiteboard.svg. */
export function downloadSvg(shapes: Shape[]): void {
  download('whiteboard.svg', svgText(shapes), 'image/svg+xml')
}

/** Download ``shapes`` as whiteboard.png (a toast when that fails). */
export async function downloadPng(shapes: Shape[]): Promise<void> {
  try {
    download('whiteboard.png', await pngBlob(shapes))
  } catch (error) {
    toast(t('whiteboard.export.failed', { error: String(error) }), 'error')
  }
}
