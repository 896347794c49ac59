// The top bar shared by the pages outside a room.

import * as api from '../api'
import { h } from '../dom'
import { t } from '../i18n'
import type { Navigate } from '../main'
import { bell } from './bell'

export function topbar(user: api.User | null, navigate: Navigate): HTMLElement {
  return h(
    'header.topbar',
    null,
    h('a.brand', { href: '/', 'data-link': '', 'aria-label': t('shell.home') }, h('span.logo', { 'aria-hidden': 'true' }, '●'), 'liveclass'),
    user
      ? h(
          'nav.row.wrap.end',
          { 'aria-label': t('shell.account') },
          h('a', { href: '/workshops', 'data-link': '' }, t('shell.workshops')),
          h('a', { href: '/calendar', 'data-link': '' }, t('shell.calendar')),
          h('a', { href: '/purchases', 'data-link': '' }, t('shell.purchases')),
          user.role === 'admin' || user.role === 'finance' ? h('a', { href: '/finance/orders', 'data-link': '' }, t('shell.finance')) : null,
          user.role === 'admin' ? h('a', { href: '/admin/webhooks', 'data-link': '' }, t('webhooks.nav')) : null,
          bell(),
          h('span.muted', { 'data-testid': 'whoami' }, t('shell.whoami', { name: user.name, role: t(`role.${user.role}`) })),
          h(
            'button',
            {
              type: 'button',
              onclick: async () => {
                await api.logout()
                navigate('/login', true)
              },
            },
            t('shell.logout'),
          ),
        )
      : null,
  )
}
