// The room page: connection lifecycle, lobby and end screens, and the live class layout
// (video tiles, whiteboard, notes, chat, people, polls, breakouts, host controls, captions).
// The parts live beside it: layout.ts, banner.ts, docs.ts, controls.ts, notices.ts,
// dialogs.ts, screens.ts (joining, lobby, end), side.ts (the side tab and unread chat),
// effects.ts (what events do beyond the model) and keys.ts (shortcuts and skip links).

import * as api from '../api'
import { fill, h, toast } from '../dom'
import type { Navigate, Page } from '../main'
import { formatNumber, t } from '../i18n'
import { ConnectionBanner } from './banner'
import { type Closed, type ConnState, type LiveMessage, RoomConnection } from './connection'
import type { RoomContext } from './context'
import { invite } from './dialogs'
import { RoomDocs } from './docs'
import { EventEffects } from './effects'
import { roomKeys, skipLink } from './keys'
import { buildLayout, type Layout } from './layout'
import { MediaClient, type Source } from './media'
import { type Change, RoomModel } from './model'
import { Notices } from './notices'
import type { RoomEvent, Welcome } from './protocol.gen'
import { joiningScreen, showClosed, showLobby } from './screens'
import { SidePanels } from './side'

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
  private readonly side = new SidePanels(() => this.layout)
  private readonly effects: EventEffects
  private readonly onKey: (event: KeyboardEvent) => void
  private layout: Layout | null = null
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
    this.screen = joiningScreen()
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
        this.side.show('chat')
        this.layout?.chat.focusComposer(to)
      },
      showSide: (tab) => this.side.show(tab),
    }
    const layout = (): Layout | null => this.layout
    this.effects = new EventEffects({ model: this.model, media: this.media, notices: this.notices, side: this.side, navigate, layout })
    this.onKey = roomKeys({ ctx: this.ctx, media: this.media, docs: this.docs, layout })
    document.addEventListener('keydown', this.onKey)
    this.skipLinks = [
      skipLink(t('skip.chat'), () => this.ctx.openChat()),
      skipLink(t('skip.controls'), () => this.layout?.controls.focus()),
    ]
    document.addEventListener('visibilitychange', this.side.onVisibility)
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
    document.removeEventListener('visibilitychange', this.side.onVisibility)
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
    if (state === 'lobby') showLobby(this.screen)
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
    else this.effects.joinedClosing()
    window.clearInterval(this.tokenTimer)
    this.tokenTimer = window.setInterval(() => void this.docs.refreshTokens(), TOKEN_REFRESH_MS)
  }

  private onEvent(event: RoomEvent): void {
    this.render(this.effects.apply(event))
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
    showClosed(this.screen, info, this.roomId, this.model.amHost)
    this.el.replaceChildren(this.screen)
    for (const link of this.skipLinks) link.remove()
    document.title = t('app.titleSuffix', { title: t('room.closed.title') })
    this.screen.querySelector('h1')?.setAttribute('tabindex', '-1')
    this.screen.querySelector<HTMLElement>('h1')?.focus()
  }

  // ---------------------------------------------------------------- layout

  private buildLayout(): Layout {
    const layout = buildLayout({
      ctx: this.ctx,
      media: this.media,
      docs: this.docs,
      notices: this.notices,
      invite: () => invite(this.roomId, Boolean(this.model.room.settings.open)),
      showSide: (id) => this.side.show(id),
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
    this.side.show('chat')
    layout.stage.select('whiteboard')
    return layout
  }

  private refreshAll(): void {
    this.render(['room', 'participants', 'hands', 'chat', 'polls', 'quizzes', 'lobby', 'breakouts', 'spotlight', 'me', 'media'])
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
      if (!model.amHost && this.side.current === 'host') this.side.show('chat')
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
    if (set.has('quizzes') || set.has('me')) layout.quizzes.render()
    if (set.has('breakouts') || set.has('participants') || set.has('me') || set.has('room')) {
      layout.breakouts.render()
      this.notices.render(model)
    }
    if (set.has('participants') || set.has('me') || set.has('room') || set.has('media')) layout.captions.refresh()
  }
}
