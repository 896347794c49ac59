// Cursors over awareness: the other people's pointers drawn on the current page, and ours
// sent (throttled) for them to draw.

import { s } from '../dom'
import { color as safeColor, fieldReader, MAX_COORD, MAX_ID, MAX_NAME, num, str } from './fields'
import { DEFAULT_PAGE } from './model'
import { FONT } from './render'
import type { BoardState } from './state'
import { round } from './tools'

export class Cursors {
  private timer = 0

  constructor(
    private readonly state: BoardState,
    private readonly layer: SVGGElement,
  ) {}

  /** Draw every other client's cursor that is on the current page, at a constant size. */
  draw(): void {
    const awareness = this.state.awareness
    this.layer.replaceChildren()
    if (!awareness) return
    const scale = 1 / this.state.view.zoom
    awareness.getStates().forEach((state, clientId) => {
      if (clientId === awareness.clientID) return
      // Awareness states are whatever another client sent: read the known fields shallowly.
      const cursor = fieldReader(state.cursor)
      const user = fieldReader(state.user)
      if (!cursor || !user || (str(cursor('page'), MAX_ID) ?? DEFAULT_PAGE) !== this.state.page) return
      const x = num(cursor('x'), -MAX_COORD, MAX_COORD)
      const y = num(cursor('y'), -MAX_COORD, MAX_COORD)
      const name = str(user('name'), MAX_NAME, true)
      if (x === undefined || y === undefined || !name) return
      const color = safeColor(user('color')) ?? '#2563eb'
      const label = s('g', { transform: `translate(14 18)` })
      const width = name.length * 7.5 + 12
      label.append(
        s('rect', { x: 0, y: 0, width, height: 20, rx: 4, fill: color }),
        (() => {
          const text = s('text', { x: 6, y: 14, fill: '#fff', 'font-size': 12, 'font-family': FONT })
          text.textContent = name
          return text
        })(),
      )
      const group = s(
        'g',
        { class: 'remote-cursor', 'data-cursor': name, transform: `translate(${x} ${y}) scale(${scale})` },
        s('path', { d: 'M0 0 L0 16 L4.5 12 L8 19 L10.5 18 L7 11 L13 11 Z', fill: color, stroke: '#fff', 'stroke-width': 1 }),
        label,
      )
      this.layer.appendChild(group)
    })
  }

  /** Tell the others where our pointer is on the current page (null: it left the board). */
  send(point: { x: number; y: number } | null): void {
    const awareness = this.state.awareness
    if (!awareness) return
    window.clearTimeout(this.timer)
    this.timer = window.setTimeout(() => {
      awareness.setLocalStateField('cursor', point ? { x: round(point.x), y: round(point.y), page: this.state.page } : null)
    }, 30)
  }
}
