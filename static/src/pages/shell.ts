// The top bar shared by the pages outside a room.

import * as api from '../api'
import { h } from '../dom'
import type { Navigate } from '../main'

export function topbar(user: api.User | null, navigate: Navigate): HTMLElement {
  return h(
    'header.topbar',
    null,
    h('a.brand', { href: '/', 'data-link': '', 'aria-label': 'liveclass home' }, h('span.logo', { 'aria-hidden': 'true' }, '●'), 'liveclass'),
    user
      ? h(
          'nav.row',
          { 'aria-label': 'Account' },
          h('span.muted', { 'data-testid': 'whoami' }, `${user.name} · ${user.role}`),
          h(
            'button',
            {
              type: 'button',
              onclick: async () => {
                await api.logout()
                navigate('/login', true)
              },
            },
            'Log out',
          ),
        )
      : null,
  )
}
