// The side panels' state on the room page: which tab is shown, and the chat tab's count of
// messages that arrived while the chat was not in view (reset when it is seen).

import { fill, h } from '../dom'
import { formatNumber, t } from '../i18n'
import type { SideTab } from './context'
import type { Layout } from './layout'

export class SidePanels {
  /** The tab shown (kept before the layout exists, applied once it does). */
  current: SideTab = 'chat'
  private unread = 0

  constructor(private readonly layout: () => Layout | null) {}

  show(tab: SideTab): void {
    this.current = tab
    const layout = this.layout()
    if (!layout) return
    layout.side.select(tab)
    if (tab === 'chat') {
      this.unread = 0
      this.renderUnread()
      layout.chat.scrollToEnd()
    }
  }

  /** Someone else's chat message arrived: counted unless the chat is in view. */
  messageArrived(): void {
    if (this.current !== 'chat' || document.hidden) {
      this.unread += 1
      this.renderUnread()
    }
  }

  /** The page was shown or hidden: a chat in view is read. */
  readonly onVisibility = (): void => {
    if (!document.hidden && this.current === 'chat') {
      this.unread = 0
      this.renderUnread()
    }
  }

  private renderUnread(): void {
    const tab = this.layout()?.side.tabs.get('chat')
    if (!tab) return
    fill(
      tab,
      t('room.side.chat'),
      this.unread ? [h('span.count', { 'data-testid': 'unread', 'aria-hidden': 'true' }, formatNumber(this.unread)), h('span.sr-only', null, t('room.unread', { count: this.unread }))] : null,
    )
  }
}
