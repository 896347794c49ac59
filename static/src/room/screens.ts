// The room page's screens other than the class: joining, waiting in the lobby, and the end
// (the room ended, you left, or you were removed).

import { h } from '../dom'
import { t } from '../i18n'
import type { Closed } from './connection'

/** The screen shown until the first welcome (the page's main region). */
export function joiningScreen(): HTMLElement {
  return h('main#main.page.center', { tabindex: -1 }, h('h1', null, t('room.joining')), h('p.muted', null, t('room.connecting')))
}

export function showLobby(screen: HTMLElement): void {
  screen.replaceChildren(
    h('h1', null, t('room.lobby.title')),
    h('p', { 'data-testid': 'lobby-waiting' }, t('room.lobby.text')),
    h('div.spinner', { 'aria-hidden': 'true' }),
    h('p', null, h('a.button', { href: '/', 'data-link': '' }, t('room.header.leave'))),
  )
}

/** Fill ``screen`` with why the connection closed; ``host``: link the attendance report. */
export function showClosed(screen: HTMLElement, info: Closed, roomId: string, host: boolean): void {
  const ended = info.code === 4010 || info.code === 410
  screen.replaceChildren(
    h('h1', null, t(ended ? 'room.closed.ended' : info.code === 4030 ? 'room.closed.left' : 'room.closed.out')),
    h('p', { role: 'alert', 'data-testid': 'closed-reason' }, info.message),
    h(
      'p.row.center',
      null,
      h('a.button.primary', { href: '/', 'data-link': '' }, t('room.closed.home')),
      host ? h('a.button', { href: `/rooms/${roomId}/report`, 'data-link': '' }, t('home.attendance')) : null,
    ),
  )
  screen.className = 'page center'
}
