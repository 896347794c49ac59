// The connection banner at the top of the room page: reconnecting (with a retry button),
// offline, and for a few seconds after a reconnect whether the room was recovered.

import { fill, h } from '../dom'
import { t } from '../i18n'
import type { ConnState } from './connection'

export class ConnectionBanner {
  readonly el = h('div.conn-banner', { role: 'status', 'aria-live': 'polite', 'data-testid': 'connection', 'data-state': 'connecting', hidden: true })
  private timer = 0

  constructor(private readonly retry: () => void) {}

  /** Show the connection's state; ``lobby`` and the states that need no banner hide it. */
  show(state: ConnState, attempt: number): void {
    const el = this.el
    el.dataset.state = state
    window.clearTimeout(this.timer)
    switch (state) {
      case 'reconnecting':
        el.hidden = false
        el.className = 'conn-banner warn'
        fill(
          el,
          h('span', null, attempt > 1 ? t('banner.reconnectingAttempt', { attempt }) : t('banner.reconnecting')),
          h('button.small', { type: 'button', onclick: () => this.retry() }, t('banner.retry')),
        )
        break
      case 'offline':
        el.hidden = false
        el.className = 'conn-banner error'
        fill(el, t('banner.offline'))
        break
      default:
        el.hidden = true
    }
  }

  /** Back after a reconnect: say whether the missed events came (or the room reloaded). */
  reconnected(recovered: boolean): void {
    const el = this.el
    el.hidden = false
    el.className = 'conn-banner success'
    el.dataset.state = recovered ? 'recovered' : 'resynced'
    fill(el, t(recovered ? 'banner.recovered' : 'banner.resynced'))
    this.timer = window.setTimeout(() => {
      el.hidden = true
    }, 4000)
  }

  destroy(): void {
    window.clearTimeout(this.timer)
  }
}
