// The room page: connection lifecycle, lobby and end screens, and the live class layout
// (video tiles, whiteboard, notes, chat, people, polls, breakouts, host controls). The
// parts live beside it: layout.ts, banner.ts, docs.ts, controls.ts, notices.ts, dialogs.ts.

import * as api from '../api'
import { announce, confirmDialog, fill, h, toast, typingInField } from '../dom'
import type { Navigate, Page } from '../main'
import { formatNumber, t } from '../i18n'
import { ConnectionBanner } from './banner'
import { type Closed, type ConnState, type LiveMessage, RoomConnection } from './connection'
import { type RoomContext, type SideTab } from './context'
import { chatAnnounced } from './chat'
import { invite, shortcuts } from './dialogs'
import { RoomDocs } from './docs'
import { buildLayout, type Layout } from './layout'
import { MediaClient, type Source } from './media'
import { type Change, RoomModel } from './model'
import { announceSettings, Notices } from './notices'
import type { RoomEvent, Welcome } from './protocol.gen'

const TOKEN_REFRESH_MS = 8 * 60 * 1000

const STATUS_FIELD: Record<Source, 'camera' | 'mic' | 'screen'> = { camera: 'camera', microphone: 'mic', screen: 'screen' }

export function roomPage(roomId: string, user: api.User, navigate: Navigate): Page {
  const view = new RoomView(roomId, user, navigate)
  return { el: view.el, title: t('room.title'), destroy: () => view.destroy() }
}

class RoomView {
  readonly el: HTMLElement
  private readonly model = new RoomModel()
  private readonly conn: RoomConnection
  private readonly media: MediaClient
  private readonly ctx: RoomContext
  private readonly banner: ConnectionBanner
  private readonly notices: Notices
  private readonly docs: RoomDocs
  private readonly screen: HTMLElement
  private layout: Layout | null = null
  private side: SideTab = 'chat'
  private unread = 0
  private tokenTimer = 0
  private skipLinks: HTMLElement[] = []

  constructor(
    private readonly roomId: string,
    user: api.User,
    private readonly navigate: Navigate,
  ) {
    this.banner = new ConnectionBanner(() => this.conn.start())
    this.notices = new Notices(navigate)
    this.docs = new RoomDocs(roomId, user)
    this.screen = h('main#main.page.center', { tabindex: -1 }, h('h1', null, t('room.joining')), h('p.muted', null, t('room.connecting')))
    this.el = h('div.room-page', null, this.banner.el, this.screen)
    this.conn = new RoomConnection(roomId, {
      join: () => api.rooms.join(roomId),
      welcome: (message, join) => this.onWelcome(message, join),
      event: (message) => this.onEvent(message),
      volatile: (message) => this.onVolatile(message),
      state: (state, detail) => this.onState(state, detail),
      closed: (info) => this.onClosed(info),
    })
    this.media = new MediaClient(this.conn, {
      notice: (text, kind) => toast(text, kind),
      changed: () => this.render(['media']),
      status: (source, on) => this.conn.cast({ type: 'status.set', [STATUS_FIELD[source]]: on }),
    })
    this.ctx = {
      roomId,
      user,
      model: this.model,
      conn: this.conn,
      navigate,
      openChat: (to) => {
        this.showSide('chat')
        this.layout?.chat.focusComposer(to)
      },
      showSide: (tab) => this.showSide(tab),
    }
    document.addEventListener('keydown', this.onKey)
    this.skipLinks = [
      skipLink(t('skip.chat'), () => this.ctx.openChat()),
      skipLink(t('skip.controls'), () => this.layout?.controls.focus()),
    ]
    document.addEventListener('visibilitychange', this.onVisibility)
    // A handle for debugging in the browser console (and for the end-to-end tests).
    ;(window as unknown as { __liveclass?: unknown }).__liveclass = {
      model: this.model,
      whiteboard: () => this.docs.boardDoc?.doc,
      notes: () => this.docs.notesDoc?.doc,
      media: this.media,
    }
    this.conn.start()
  }

  destroy(): void {
    delete (window as unknown as { __liveclass?: unknown }).__liveclass
    document.removeEventListener('keydown', this.onKey)
    for (const link of this.skipLinks) link.remove()
    document.removeEventListener('visibilitychange', this.onVisibility)
    window.clearInterval(this.tokenTimer)
    this.banner.destroy()
    this.media.close()
    this.conn.stop()
    this.docs.close()
    this.layout?.breakouts.destroy()
  }

  // ---------------------------------------------------------------- connection

  private onState(state: ConnState, detail: { attempt: number; nextInMs?: number }): void {
    this.banner.show(state, detail.attempt)
    if (state === 'lobby') this.showLobby()
  }

  private onWelcome(message: Welcome, join: api.JoinInfo): void {
    const recovering = this.layout !== null
    this.model.welcome(message)
    document.title = t('app.titleSuffix', { title: this.model.room.title })
    if (!this.layout) this.layout = this.buildLayout()
    this.layout.captions.welcome(message)
    this.docs.open(join)
    this.refreshAll()
    this.media.joined(this.model.me.conn_id, this.model.grants, (message.ice_servers ?? []) as RTCIceServer[])
    if (recovering) this.banner.reconnected(message.recovered)
    window.clearInterval(this.tokenTimer)
    this.tokenTimer = window.setInterval(() => void this.docs.refreshTokens(), TOKEN_REFRESH_MS)
  }

  private onEvent(event: RoomEvent): void {
    const track = 'track_id' in event ? this.model.tracks.get(event.track_id) : undefined
    const me = this.model.me.user_id
    const leaving = event.type === 'presence.disconnected' ? this.model.participants.get(event.user_id)?.name : undefined
    const arriving = event.type === 'presence.connected' && !this.model.participants.has(event.user.user_id)
    const changes = this.model.apply(event)
    this.announceEvent(event, me, arriving, leaving)
    if (changes.includes('me') || changes.includes('room')) this.media.setGrants(this.model.grants)
    switch (event.type) {
      case 'media.track_muted':
      case 'media.track_unpublished':
        this.media.forget(event.track_id)
        if (event.user_id === me && (event.type === 'media.track_muted' || event.reason === 'muted')) {
          const source = 'source' in event ? event.source : track?.source
          if (source && this.media.has(source)) {
            this.media.stoppedByHost(source)
            toast(t(source === 'camera' ? 'room.host.stoppedVideo' : source === 'screen' ? 'room.host.stoppedScreen' : 'room.host.mutedYou'))
          }
        }
        break
      case 'chat.message':
        if (event.message.author_id !== me && (this.side !== 'chat' || document.hidden)) {
          this.unread += 1
          this.renderUnread()
        }
        break
      case 'participant.muted':
        if (event.user_id === me) {
          void this.media.stop('microphone')
          toast(t('room.host.mutedYou'))
        }
        break
      case 'room.muted_all':
        if (!this.model.amHost) {
          void this.media.stop('microphone')
          toast(t('room.host.mutedAll'))
        }
        break
      case 'participant.unmute_requested':
        if (event.user_id === me) this.notices.askUnmute(() => void this.media.start('microphone'))
        break
      case 'participant.role':
        if (event.user_id === me) toast(t('room.yourRole', { role: t(`roomRole.label.${event.role}`) }), 'info')
        break
      case 'room.settings':
        announceSettings(this.model, event.changes)
        break
      case 'lobby.waiting':
        if (this.model.amHost) toast(t('room.lobby.waiting', { name: event.user.name }), 'info')
        break
      case 'breakout.opened':
        if (this.model.myBreakout()) toast(t('room.breakouts.open'), 'info')
        break
      case 'breakout.broadcast':
        this.notices.broadcast(event.name, event.text)
        break
      case 'caption.line':
      case 'caption.captioner':
      case 'caption.auto':
        this.layout?.captions.onEvent(event)
        break
      case 'breakout.closed':
        if (event.parent && this.model.room.parent_id) {
          toast(t('room.breakouts.closed'), 'info')
          const parent = this.model.room.parent_id
          window.setTimeout(() => this.navigate(`/rooms/${parent}`, true), 800)
        }
        break
    }
    this.render(changes)
  }

  /**
   * What screen readers hear about the room, once per event: new chat messages (unless muted
   * in the chat panel; also while the chat tab is hidden), and for hosts raised hands, joins
   * and leaves. The person's own hand is confirmed to them.
   */
  private announceEvent(event: RoomEvent, me: string, arriving: boolean, leaving: string | undefined): void {
    const model = this.model
    switch (event.type) {
      case 'chat.message':
        if (event.message.author_id !== me && chatAnnounced() && this.layout) announce(this.layout.chat.announcement(event.message))
        break
      case 'hand.raised':
        if (event.user_id === me) announce(t('room.announce.myHandUp'))
        else if (model.amHost) announce(t('room.announce.handUp', { name: model.name(event.user_id), position: model.handPosition(event.user_id) }))
        break
      case 'hand.lowered':
        if (event.user_id === me) announce(t(event.by && event.by !== me ? 'room.announce.myHandLoweredByHost' : 'room.announce.myHandDown'))
        break
      case 'presence.connected':
        if (arriving && model.amHost && event.user.user_id !== me) announce(t('room.announce.joined', { name: event.user.name }))
        break
      case 'presence.disconnected':
        if (leaving && event.last && model.amHost && event.user_id !== me) announce(t('room.announce.left', { name: leaving }))
        break
    }
  }

  private onVolatile(message: LiveMessage): void {
    if (message.type === 'chat.typing') this.layout?.chat.onTyping(message.user_id, message.name)
    else if (message.type === 'reaction') this.layout?.controls.floatReaction(message.user_id, message.emoji)
    else if (message.type === 'media.offer') this.media.offer(message)
    else if (message.type === 'media.reconnect') this.media.reconnect()
    else if (message.type === 'media.active_speaker') this.layout?.tiles.setSpeaker(message.user_id ?? null)
    else if (message.type === 'caption.partial') this.layout?.captions.onPartial(message)
  }

  private onClosed(info: Closed): void {
    const parent = this.model.room.parent_id
    if (parent && info.code === 4010) {
      this.navigate(`/rooms/${parent}`, true)
      return
    }
    this.media.close()
    this.docs.close()
    this.layout?.breakouts.destroy()
    this.layout = null
    const ended = info.code === 4010 || info.code === 410
    const host = this.model.amHost
    this.screen.replaceChildren(
      h('h1', null, t(ended ? 'room.closed.ended' : info.code === 4030 ? 'room.closed.left' : 'room.closed.out')),
      h('p', { role: 'alert', 'data-testid': 'closed-reason' }, info.message),
      h(
        'p.row.center',
        null,
        h('a.button.primary', { href: '/', 'data-link': '' }, t('room.closed.home')),
        host ? h('a.button', { href: `/rooms/${this.roomId}/report`, 'data-link': '' }, t('home.attendance')) : null,
      ),
    )
    this.screen.className = 'page center'
    this.el.replaceChildren(this.screen)
    for (const link of this.skipLinks) link.remove()
    document.title = t('app.titleSuffix', { title: t('room.closed.title') })
    this.screen.querySelector('h1')?.setAttribute('tabindex', '-1')
    this.screen.querySelector<HTMLElement>('h1')?.focus()
  }

  private showLobby(): void {
    this.screen.replaceChildren(
      h('h1', null, t('room.lobby.title')),
      h('p', { 'data-testid': 'lobby-waiting' }, t('room.lobby.text')),
      h('div.spinner', { 'aria-hidden': 'true' }),
      h('p', null, h('a.button', { href: '/', 'data-link': '' }, t('room.header.leave'))),
    )
  }

  // ---------------------------------------------------------------- layout

  private buildLayout(): Layout {
    const layout = buildLayout({
      ctx: this.ctx,
      media: this.media,
      docs: this.docs,
      notices: this.notices,
      invite: () => invite(this.roomId, Boolean(this.model.room.settings.open)),
      showSide: (id) => this.showSide(id),
    })
    this.el.replaceChildren(this.banner.el, layout.el)
    this.layout = layout
    const skips = document.querySelector('.skip-links')
    if (skips) skips.append(...this.skipLinks)
    // Focus was on the "Joining…" heading, now gone: the room's title takes it (and is read).
    const active = document.activeElement
    if (!active || active === document.body || !active.isConnected || !this.el.contains(active)) {
      layout.title.tabIndex = -1
      layout.title.focus({ preventScroll: true })
    }
    this.showSide('chat')
    layout.stage.select('whiteboard')
    return layout
  }

  private showSide(tab: SideTab): void {
    this.side = tab
    const layout = this.layout
    if (!layout) return
    layout.side.select(tab)
    if (tab === 'chat') {
      this.unread = 0
      this.renderUnread()
      layout.chat.scrollToEnd()
    }
  }

  private renderUnread(): void {
    const tab = this.layout?.side.tabs.get('chat')
    if (!tab) return
    fill(
      tab,
      t('room.side.chat'),
      this.unread ? [h('span.count', { 'data-testid': 'unread', 'aria-hidden': 'true' }, formatNumber(this.unread)), h('span.sr-only', null, t('room.unread', { count: this.unread }))] : null,
    )
  }

  private refreshAll(): void {
    this.render(['room', 'participants', 'hands', 'chat', 'polls', 'lobby', 'breakouts', 'spotlight', 'me', 'media'])
  }

  private render(changes: Change[]): void {
    const layout = this.layout
    if (!layout) return
    const set = new Set(changes)
    const model = this.model
    if (set.has('room') || set.has('me')) {
      layout.title.textContent = model.room.title
      document.title = t('app.titleSuffix', { title: model.room.title })
      const s = model.room.settings
      fill(
        layout.chips,
        h('span.badge.role', null, t(`roomRole.${model.me.role}`)),
        s.locked ? h('span.badge.warn', { 'data-testid': 'locked-chip' }, h('span', { 'aria-hidden': 'true' }, '🔒 '), t('room.chip.locked')) : null,
        s.lobby ? h('span.badge', null, t('room.chip.lobby')) : null,
        s.chat_enabled === false ? h('span.badge', null, t('room.chip.chatOff')) : null,
        s.slow_mode_seconds ? h('span.badge', null, t('room.chip.slow', { seconds: s.slow_mode_seconds })) : null,
        model.room.parent_id ? h('span.badge.info', null, t('room.chip.breakout')) : null,
      )
      const hostTab = layout.side.tabs.get('host')
      if (hostTab) hostTab.hidden = !model.amHost
      if (!model.amHost && this.side === 'host') this.showSide('chat')
      layout.host.render()
      this.docs.setAccess(model)
    }
    if (set.has('media')) {
      layout.tiles.render()
      layout.controls.render()
    }
    if (set.has('participants') || set.has('me') || set.has('room')) {
      layout.chat.renderTargets()
      layout.tiles.render()
      layout.controls.render()
    }
    if (set.has('participants') || set.has('hands') || set.has('lobby') || set.has('spotlight') || set.has('me')) {
      layout.people.render()
      layout.controls.render()
      layout.tiles.render()
      const people = layout.side.tabs.get('people')
      if (people) {
        fill(
          people,
          t('room.side.people'),
          h('span.count.muted', { 'aria-hidden': 'true' }, formatNumber(model.participants.size)),
          h('span.sr-only', null, t('room.peopleCount', { count: model.participants.size })),
          model.amHost && model.lobby.size ? [h('span.count', { 'aria-hidden': 'true' }, `+${formatNumber(model.lobby.size)}`), h('span.sr-only', null, t('room.waitingCount', { count: model.lobby.size }))] : null,
        )
      }
    }
    if (set.has('chat') || set.has('me')) layout.chat.render()
    if (set.has('polls') || set.has('me')) layout.polls.render()
    if (set.has('breakouts') || set.has('participants') || set.has('me') || set.has('room')) {
      layout.breakouts.render()
      this.notices.render(model)
    }
    if (set.has('participants') || set.has('me') || set.has('room') || set.has('media')) layout.captions.refresh()
  }

  // ---------------------------------------------------------------- keyboard

  private onKey = (event: KeyboardEvent): void => {
    const layout = this.layout
    if (!layout) return
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      const actions: Record<string, () => void> = {
        KeyH: () => void layout.controls.toggleHand(),
        KeyC: () => this.ctx.openChat(),
        KeyM: () => void this.media.toggle('microphone'),
        KeyV: () => void this.media.toggle('camera'),
        KeyK: () => layout.controls.focus(),
        KeyP: () => {
          this.showSide('people')
          layout.side.tabs.get('people')?.focus()
        },
        KeyW: () => layout.stage.select('whiteboard'),
        KeyN: () => {
          layout.stage.select('notes')
          this.docs.notes?.focus()
        },
        KeyL: () => void this.leave(),
      }
      const action = actions[event.code]
      if (action) {
        event.preventDefault()
        action()
      }
      return
    }
    if (event.key === '?' && !typingInField(event.target) && !(event.target as HTMLElement)?.closest?.('.board-canvas')) {
      event.preventDefault()
      shortcuts()
    }
  }

  /** Leave the room (Alt+L), after saying yes. */
  private async leave(): Promise<void> {
    if (await confirmDialog(t('room.leave.title'), t('room.leave.body'), t('room.header.leave'), true)) this.navigate('/')
  }

  private onVisibility = (): void => {
    if (!document.hidden && this.side === 'chat') {
      this.unread = 0
      this.renderUnread()
    }
  }
}

/** A skip link of the room page (beside the page's own "Skip to main content"). */
function skipLink(text: string, go: () => void): HTMLElement {
  return h(
    'a.skip-link',
    {
      href: '#main',
      onclick: (event: Event) => {
        event.preventDefault()
        go()
      },
    },
    text,
  )
}
