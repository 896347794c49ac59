// The bell in the top bar: the unread count, kept live over the notification channel
// (WS /ws/notifications, docs/protocol.md). One channel per tab, shared by every bell and
// the inbox page; it resumes from the last position after a reconnect, or takes the count.

import * as api from '../api'
import { h } from '../dom'
import { t } from '../i18n'

// `lost`: the channel (re)joined without replaying what was sent meanwhile, so a list of
// notifications may miss some and should be read again.
type Listener = (unread: number, fresh: api.Notification | null, lost: boolean) => void

const listeners = new Set<Listener>()
let unread: number | null = null
let socket: WebSocket | null = null
let position: { epoch: string; seq: number } | null = null
let delay = 1000
let timer: number | undefined
let connecting = false

function emit(fresh: api.Notification | null = null, lost = false): void {
  for (const listener of [...listeners]) listener(unread ?? 0, fresh, lost)
}

/** The unread count as last heard (null before the channel said). */
export function unreadCount(): number | null {
  return unread
}

/** Set the count now (a page marked something read; the channel confirms it later). */
export function setUnread(count: number): void {
  unread = Math.max(0, count)
  emit()
}

/** Hear about the count and new notifications; returns the function that stops it. */
export function onNotifications(listener: Listener): () => void {
  listeners.add(listener)
  void connect()
  return () => listeners.delete(listener)
}

function handle(message: Record<string, unknown>): void {
  if (typeof message.epoch === 'string' && typeof message.seq === 'number') {
    position = { epoch: message.epoch, seq: message.seq }
  }
  if (typeof message.unread === 'number') unread = message.unread
  if (message.type === 'welcome') emit(null, message.recovered !== true)
  else if (message.type === 'unread') emit()
  else if (message.type === 'notification') emit(message.notification as api.Notification)
}

function schedule(): void {
  if (timer !== undefined || !api.signedIn() || !listeners.size) return
  timer = window.setTimeout(() => {
    timer = undefined
    void connect()
  }, delay)
  delay = Math.min(delay * 2, 30_000)
}

async function connect(): Promise<void> {
  if (socket || connecting || !api.signedIn()) return
  connecting = true
  let url: string
  try {
    const minted = await api.notifications.channelToken()
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    url = `${scheme}//${location.host}${minted.url}`
    if (position) url += `&epoch=${encodeURIComponent(position.epoch)}&seq=${position.seq}`
  } catch {
    connecting = false
    schedule()
    return
  }
  connecting = false
  if (socket || !api.signedIn()) return
  const ws = new WebSocket(url)
  socket = ws
  ws.onopen = () => {
    delay = 1000
  }
  ws.onmessage = (event) => {
    for (const line of String(event.data).split('\n')) {
      if (!line.trim()) continue
      try {
        handle(JSON.parse(line) as Record<string, unknown>)
      } catch {
        // a message we do not understand: ignore it
      }
    }
  }
  ws.onclose = () => {
    if (socket === ws) socket = null
    schedule()
  }
}

api.onSessionChange(() => {
  if (api.signedIn()) return
  socket?.close(1000)
  socket = null
  unread = null
  position = null
})

/** The bell: a link to the inbox labelled with the unread count, and a polite live region
 * that says when the count goes up. */
export function bell(): HTMLElement {
  const count = h('span.bell-count', { 'aria-hidden': 'true', hidden: true, 'data-testid': 'bell-count' })
  const link = h(
    'a.bell',
    { href: '/notifications', 'data-link': '', 'data-testid': 'bell' },
    h('span.bell-icon', { 'aria-hidden': 'true' }, '🔔'),
    count,
  )
  const spoken = h('span.sr-only', { 'aria-live': 'polite', 'data-testid': 'bell-live' })
  const wrap = h('span.bell-wrap', null, link, spoken)
  let last: number | null = null
  const show = (value: number): void => {
    link.setAttribute('aria-label', t('bell.label', { count: value }))
    count.textContent = value > 99 ? '99+' : String(value)
    count.hidden = value === 0
    if (last !== null && value > last) spoken.textContent = t('bell.announce', { count: value })
    last = value
  }
  show(unread ?? 0)
  if (unread === null) last = null
  let attached = false
  const stop = onNotifications((value) => {
    if (wrap.isConnected) attached = true
    else if (attached) {
      stop() // its page was left
      return
    }
    show(value)
  })
  return wrap
}
