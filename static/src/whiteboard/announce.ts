// The board's polite live region: the page and the selection after a deliberate change
// (a click, a key, the outline), never on pointer moves. Several changes in one task are
// said once, the last one.

import { h } from '../dom'

export class Announcer {
  readonly el: HTMLElement
  private pending: string | null = null
  private last = ''

  constructor() {
    this.el = h('div.sr-only', { role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true', 'data-testid': 'whiteboard-announce' })
  }

  say(text: string): void {
    const first = this.pending === null
    this.pending = text
    if (!first) return
    queueMicrotask(() => {
      const said = this.pending ?? ''
      this.pending = null
      // The same words again (two selections of one shape) are made to differ so they are read.
      this.last = said === this.last ? `${said}\u00a0` : said
      this.el.textContent = this.last
    })
  }
}
