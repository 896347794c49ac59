// The inbox: every notification, newest first, with marking read (one or all), an
// unread-only filter, older pages, and a link to the e-mail settings. New notifications
// arrive live over the bell's channel.

import * as api from '../api'
import { announce, fill, h } from '../dom'
import { formatDateTime, t, type MessageKey } from '../i18n'
import { en } from '../i18n/en'
import type { Navigate, Page } from '../main'
import { onNotifications, setUnread } from './bell'
import { topbar } from './shell'

function categoryLabel(name: string): string {
  const key = `inbox.category.${name}`
  return key in en ? t(key as MessageKey) : name
}

export function inboxPage(user: api.User, navigate: Navigate): Page {
  const list = h('ul.inbox.stack', { 'aria-labelledby': 'inbox-title', 'data-testid': 'inbox' })
  const status = h('p.muted', { 'data-testid': 'inbox-status' }, t('inbox.loading'))
  const summary = h('p', { 'data-testid': 'inbox-summary' })
  const more = h('button', { type: 'button', hidden: true }, t('inbox.more'))
  const unreadOnly = h('input', { type: 'checkbox', id: 'inbox-unread-only' })
  const markAll = h('button', { type: 'button', 'data-testid': 'mark-all' }, t('inbox.markAll'))
  const shown = new Map<number, HTMLElement>()
  let cursor: string | null = null

  const setCount = (count: number): void => {
    summary.textContent = t('inbox.summary', { count })
    markAll.disabled = count === 0
  }

  function item(n: api.Notification): HTMLElement {
    const li = h('li.card.inbox-item', { 'data-testid': 'notification', 'data-id': String(n.id) })
    const markRead = async (): Promise<void> => {
      const updated = await api.notifications.markRead(n.id)
      n.read_at = updated.read_at
      render()
      // The channel may already have told the new count; ask rather than subtract twice.
      const { unread: count } = await api.notifications.unread()
      setCount(count)
      setUnread(count)
      if (unreadOnly.checked) li.remove()
      markAll.focus()
    }
    const render = (): void => {
      li.classList.toggle('unread', !n.read_at)
      fill(
        li,
        h(
          'p.muted.inbox-meta',
          null,
          n.read_at ? null : [h('span.badge.info', null, t('inbox.unread')), ' '],
          categoryLabel(n.category),
          ' · ',
          h('time', { datetime: n.created_at }, formatDateTime(n.created_at)),
        ),
        h('h2.inbox-title', null, n.title),
        n.body ? h('p', null, n.body) : null,
        h(
          'div.row',
          null,
          n.link ? h('a', { href: n.link, 'data-link': '' }, t('inbox.open')) : null,
          n.read_at
            ? null
            : h(
                'button',
                { type: 'button', 'aria-label': t('inbox.markReadOf', { title: n.title }), onclick: markRead },
                t('inbox.markRead'),
              ),
        ),
      )
    }
    render()
    return li
  }

  async function load(reset: boolean): Promise<void> {
    if (reset) {
      cursor = null
      shown.clear()
      list.replaceChildren()
    }
    list.setAttribute('aria-busy', 'true')
    try {
      const page = await api.notifications.list({ unread: unreadOnly.checked, cursor })
      for (const n of page.items) {
        if (shown.has(n.id)) continue
        const li = item(n)
        shown.set(n.id, li)
        list.appendChild(li)
      }
      cursor = page.next
      more.hidden = !cursor
      setCount(page.unread)
      status.textContent = shown.size ? '' : t(unreadOnly.checked ? 'inbox.noneUnread' : 'inbox.none')
      status.hidden = shown.size > 0
    } catch (error) {
      status.hidden = false
      status.textContent = error instanceof api.ApiError ? error.readable : String(error)
    } finally {
      list.removeAttribute('aria-busy')
    }
  }

  more.addEventListener('click', () => void load(false))
  unreadOnly.addEventListener('change', () => void load(true))
  markAll.addEventListener('click', async () => {
    const { marked } = await api.notifications.markAllRead()
    announce(t('inbox.markedAll', { count: marked }))
    setUnread(0)
    await load(true)
  })
  let loading = true
  const stop = onNotifications((count, fresh, lost) => {
    setCount(count)
    // Joined anew after the list was read: what came in between was not replayed.
    if (lost && !loading) void load(true)
    if (fresh && !shown.has(fresh.id)) {
      const li = item(fresh)
      shown.set(fresh.id, li)
      list.prepend(li)
      status.hidden = true
    }
  })
  void load(true).finally(() => {
    loading = false
  })
  return {
    title: t('inbox.title'),
    destroy: () => stop(),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page',
        null,
        h('h1#inbox-title', null, t('inbox.heading')),
        summary,
        h(
          'div.row.wrap',
          null,
          h('label.row', { for: 'inbox-unread-only' }, unreadOnly, t('inbox.unreadOnly')),
          markAll,
          h('a', { href: '/notifications/settings', 'data-link': '' }, t('inbox.settings')),
        ),
        status,
        list,
        more,
      ),
    ),
  }
}
