// The room page: connection lifecycle, lobby and end screens, and the live class layout
// (video tiles, whiteboard, notes, chat, people, polls, breakouts, host controls). The
// parts live beside it: layout.ts, banner.ts, docs.ts, controls.ts, notices.ts, dialogs.ts.

import * as api from '../api'
import { fill, h, toast, typingInField } from '../dom'
import type { Navigate, Page } from '../main'
import { ConnectionBanner } from './banner'
import { type Closed, type ConnState, type LiveMessage, RoomConnection } from './connection'
import { type RoomContext, type SideTab } from './context'
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
  return { el: view.el, title: 'Live class', destroy: () => view.destroy() }
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

  constructor(
    private readonly roomId: string,
    user: api.User,
    private readonly navigate: Navigate,
  ) {
    this.banner = new ConnectionBanner(() => this.conn.start())
    this.notices = new Notices(navigate)
    this.docs = new RoomDocs(roomId, user)
    this.screen = h('main#main.page.center', null, h('h1', null, 'Joining the class…'), h('p.muted', null, 'Connecting to the room.'))
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
    document.title = `${this.model.room.title} · liveclass`
    if (!this.layout) this.layout = this.buildLayout()
    this.docs.open(join)
    this.refreshAll()
    this.media.joined(this.model.me.conn_id, this.model.grants, (message.ice_servers ?? []) as RTCIceServer[])
    if (recovering) this.banner.reconnected(message.recovered)
    window.clearInterval(this.tokenTimer)
    this.tokenTimer = window.setInterval(() => void this.docs.refreshTokens(), TOKEN_REFRESH_MS)
  }

  private onEvent(event: RoomEvent): void {
    const track = 'track_id' in event ? this.model.tracks.get(event.track_id) : undefined
    const changes = this.model.apply(event)
    const me = this.model.me.user_id
    if (changes.includes('me') || changes.includes('room')) this.media.setGrants(this.model.grants)
    switch (event.type) {
      case 'media.track_muted':
      case 'media.track_unpublished':
        this.media.forget(event.track_id)
        if (event.user_id === me && (event.type === 'media.track_muted' || event.reason === 'muted')) {
          const source = 'source' in event ? event.source : track?.source
          if (source && this.media.has(source)) {
            this.media.stoppedByHost(source)
            toast(source === 'camera' ? 'A host stopped your video.' : source === 'screen' ? 'A host stopped your screen share.' : 'A host muted your microphone.')
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
          toast('A host muted your microphone.')
        }
        break
      case 'room.muted_all':
        if (!this.model.amHost) {
          void this.media.stop('microphone')
          toast('A host muted everyone.')
        }
        break
      case 'participant.unmute_requested':
        if (event.user_id === me) this.notices.askUnmute(() => void this.media.start('microphone'))
        break
      case 'participant.role':
        if (event.user_id === me) toast(`Your role is now: ${event.role}.`, 'info')
        break
      case 'room.settings':
        announceSettings(this.model, event.changes)
        break
      case 'lobby.waiting':
        if (this.model.amHost) toast(`${event.user.name} is waiting to join.`, 'info')
        break
      case 'breakout.opened':
        if (this.model.myBreakout()) toast('Breakout rooms are open: join yours from the banner.', 'info')
        break
      case 'breakout.broadcast':
        this.notices.broadcast(event.name, event.text)
        break
      case 'breakout.closed':
        if (event.parent && this.model.room.parent_id) {
          toast('The breakout rooms closed: back to the main room.', 'info')
          const parent = this.model.room.parent_id
          window.setTimeout(() => this.navigate(`/rooms/${parent}`, true), 800)
        }
        break
    }
    this.render(changes)
  }

  private onVolatile(message: LiveMessage): void {
    if (message.type === 'chat.typing') this.layout?.chat.onTyping(message.user_id, message.name)
    else if (message.type === 'reaction') this.layout?.controls.floatReaction(message.user_id, message.emoji)
    else if (message.type === 'media.offer') this.media.offer(message)
    else if (message.type === 'media.reconnect') this.media.reconnect()
    else if (message.type === 'media.active_speaker') this.layout?.tiles.setSpeaker(message.user_id ?? null)
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
      h('h1', null, ended ? 'The class has ended' : info.code === 4030 ? 'You left the room' : 'You are not in the room'),
      h('p', { role: 'alert', 'data-testid': 'closed-reason' }, info.message),
      h(
        'p.row.center',
        null,
        h('a.button.primary', { href: '/', 'data-link': '' }, 'Back to my rooms'),
        host ? h('a.button', { href: `/rooms/${this.roomId}/report`, 'data-link': '' }, 'Attendance') : null,
      ),
    )
    this.screen.className = 'page center'
    this.el.replaceChildren(this.screen)
    document.title = 'Left the room · liveclass'
  }

  private showLobby(): void {
    this.screen.replaceChildren(
      h('h1', null, 'Waiting room'),
      h('p', { 'data-testid': 'lobby-waiting' }, 'The host will let you in soon. Keep this page open.'),
      h('div.spinner', { 'aria-hidden': 'true' }),
      h('p', null, h('a.button', { href: '/', 'data-link': '' }, 'Leave')),
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
    fill(tab, 'Chat', this.unread ? h('span.count', { 'data-testid': 'unread', 'aria-label': `${this.unread} unread` }, String(this.unread)) : null)
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
      document.title = `${model.room.title} · liveclass`
      const s = model.room.settings
      fill(
        layout.chips,
        h('span.badge.role', null, model.me.role),
        s.locked ? h('span.badge.warn', { 'data-testid': 'locked-chip' }, '🔒 Locked') : null,
        s.lobby ? h('span.badge', null, 'Waiting room on') : null,
        s.chat_enabled === false ? h('span.badge', null, 'Chat off') : null,
        s.slow_mode_seconds ? h('span.badge', null, `Slow mode ${s.slow_mode_seconds}s`) : null,
        model.room.parent_id ? h('span.badge.info', null, 'Breakout room') : null,
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
      if (people) fill(people, 'People', h('span.count.muted', null, String(model.participants.size)), model.amHost && model.lobby.size ? h('span.count', { 'aria-label': `${model.lobby.size} waiting` }, `+${model.lobby.size}`) : null)
    }
    if (set.has('chat') || set.has('me')) layout.chat.render()
    if (set.has('polls') || set.has('me')) layout.polls.render()
    if (set.has('breakouts') || set.has('participants') || set.has('me') || set.has('room')) {
      layout.breakouts.render()
      this.notices.render(model)
    }
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
        KeyW: () => layout.stage.select('whiteboard'),
        KeyN: () => {
          layout.stage.select('notes')
          this.docs.notes?.focus()
        },
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

  private onVisibility = (): void => {
    if (!document.hidden && this.side === 'chat') {
      this.unread = 0
      this.renderUnread()
    }
  }
}
