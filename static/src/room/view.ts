// The room page: connection lifecycle, lobby and end screens, and the live class layout
// (video tiles, whiteboard, notes, chat, people, polls, breakouts, host controls).

import * as api from '../api'
import { RoomDoc } from '../collab'
import { colorFor, fill, h, modal, tablistKeys, toast, typingInField } from '../dom'
import type { Navigate, Page } from '../main'
import { NotesEditor } from '../notes'
import { BoardModel } from '../whiteboard/model'
import { Whiteboard } from '../whiteboard/board'
import { BreakoutsPanel, remaining } from './breakouts'
import { ChatPanel } from './chat'
import { type Closed, type ConnState, type Message, RoomConnection } from './connection'
import { type RoomContext, run, type SideTab } from './context'
import { HostPanel } from './host'
import { MediaClient, type Source } from './media'
import { type Change, RoomModel } from './model'
import { PeoplePanel } from './people'
import { PollsPanel } from './polls'
import { Tiles } from './tiles'

const EMOJI = ['👍', '👏', '❤️', '😂', '😮', '🎉']
const TOKEN_REFRESH_MS = 8 * 60 * 1000

type StageTab = 'whiteboard' | 'notes'
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
  private readonly banner: HTMLElement
  private readonly notices: HTMLElement
  private readonly screen: HTMLElement
  private layout: HTMLElement | null = null
  private chat!: ChatPanel
  private people!: PeoplePanel
  private polls!: PollsPanel
  private breakouts!: BreakoutsPanel
  private host!: HostPanel
  private board: Whiteboard | null = null
  private boardDoc: RoomDoc | null = null
  private notes: NotesEditor | null = null
  private notesDoc: RoomDoc | null = null
  private side: SideTab = 'chat'
  private unread = 0
  private tokenTimer = 0
  private bannerTimer = 0
  private resyncing = false
  private resyncingNotes = false
  private readonly sideTabs = new Map<SideTab, HTMLButtonElement>()
  private readonly sidePanels = new Map<SideTab, HTMLElement>()
  private readonly stageTabs = new Map<StageTab, HTMLButtonElement>()
  private readonly stagePanels = new Map<StageTab, HTMLElement>()
  private titleEl!: HTMLElement
  private chips!: HTMLElement
  private tiles!: Tiles
  private handButton!: HTMLButtonElement
  private micButton!: HTMLButtonElement
  private camButton!: HTMLButtonElement
  private screenButton!: HTMLButtonElement
  private awayButton!: HTMLButtonElement
  private reactionLayer!: HTMLElement
  private hostTab!: HTMLButtonElement

  constructor(
    private readonly roomId: string,
    private readonly user: api.User,
    private readonly navigate: Navigate,
  ) {
    this.banner = h('div.conn-banner', { role: 'status', 'aria-live': 'polite', 'data-testid': 'connection', 'data-state': 'connecting', hidden: true })
    this.notices = h('div.notices', { 'aria-live': 'polite' })
    this.screen = h('main#main.page.center', null, h('h1', null, 'Joining the class…'), h('p.muted', null, 'Connecting to the room.'))
    this.el = h('div.room-page', null, this.banner, this.screen)
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
        this.chat.focusComposer(to)
      },
      showSide: (tab) => this.showSide(tab),
    }
    document.addEventListener('keydown', this.onKey)
    document.addEventListener('visibilitychange', this.onVisibility)
    // A handle for debugging in the browser console (and for the end-to-end tests).
    ;(window as unknown as { __liveclass?: unknown }).__liveclass = {
      model: this.model,
      whiteboard: () => this.boardDoc?.doc,
      notes: () => this.notesDoc?.doc,
      media: this.media,
    }
    this.conn.start()
  }

  destroy(): void {
    delete (window as unknown as { __liveclass?: unknown }).__liveclass
    document.removeEventListener('keydown', this.onKey)
    document.removeEventListener('visibilitychange', this.onVisibility)
    window.clearInterval(this.tokenTimer)
    window.clearTimeout(this.bannerTimer)
    this.media.close()
    this.conn.stop()
    this.closeDocs()
    this.breakouts?.destroy()
  }

  private closeDocs(): void {
    this.board?.destroy()
    this.boardDoc?.destroy()
    this.notes?.destroy()
    this.notesDoc?.destroy()
    this.board = null
    this.boardDoc = null
    this.notes = null
    this.notesDoc = null
  }

  // ---------------------------------------------------------------- connection

  private onState(state: ConnState, detail: { attempt: number; nextInMs?: number }): void {
    this.banner.dataset.state = state
    window.clearTimeout(this.bannerTimer)
    switch (state) {
      case 'open':
        this.banner.hidden = true
        break
      case 'connecting':
        this.banner.hidden = true
        break
      case 'lobby':
        this.banner.hidden = true
        this.showLobby()
        break
      case 'reconnecting':
        this.banner.hidden = false
        this.banner.className = 'conn-banner warn'
        fill(
          this.banner,
          h('span', null, `Connection lost. Reconnecting${detail.attempt > 1 ? ` (attempt ${detail.attempt})` : ''}…`),
          h('button.small', { type: 'button', onclick: () => this.conn.start() }, 'Retry now'),
        )
        break
      case 'offline':
        this.banner.hidden = false
        this.banner.className = 'conn-banner error'
        fill(this.banner, 'You are offline. The class continues; you will catch up automatically when your connection returns.')
        break
      case 'closed':
        this.banner.hidden = true
        break
    }
  }

  private onWelcome(message: Message, join: api.JoinInfo): void {
    const recovering = this.layout !== null
    this.model.welcome(message)
    document.title = `${this.model.room.title} · liveclass`
    if (!this.layout) this.buildLayout()
    this.openDocs(join)
    this.refreshAll()
    this.media.joined(this.model.me.conn_id, this.model.grants, (message.ice_servers ?? []) as RTCIceServer[])
    if (recovering) {
      this.banner.hidden = false
      this.banner.className = 'conn-banner success'
      this.banner.dataset.state = message.recovered ? 'recovered' : 'resynced'
      fill(this.banner, message.recovered ? 'Reconnected. You are up to date.' : 'Reconnected. The room was reloaded.')
      this.bannerTimer = window.setTimeout(() => {
        this.banner.hidden = true
      }, 4000)
    }
    window.clearInterval(this.tokenTimer)
    this.tokenTimer = window.setInterval(() => void this.refreshDocTokens(), TOKEN_REFRESH_MS)
  }

  private async refreshDocTokens(): Promise<void> {
    try {
      const join = await api.rooms.join(this.roomId)
      this.boardDoc?.setToken(join.token)
      this.notesDoc?.setToken(join.token)
    } catch {
      // the room channel notices real problems itself
    }
  }

  private onEvent(event: Message): void {
    const track = typeof event.track_id === 'string' ? this.model.tracks.get(event.track_id) : undefined
    const changes = this.model.apply(event)
    const me = this.model.me.user_id
    if (changes.includes('me') || changes.includes('room')) this.media.setGrants(this.model.grants)
    switch (event.type) {
      case 'media.track_muted':
      case 'media.track_unpublished':
        this.media.forget(event.track_id)
        if (event.user_id === me && (event.type === 'media.track_muted' || event.reason === 'muted')) {
          const source = (event.source ?? track?.source) as Source | undefined
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
        if (event.user_id === me) this.askUnmute()
        break
      case 'participant.role':
        if (event.user_id === me) toast(`Your role is now: ${event.role}.`, 'info')
        break
      case 'room.settings':
        this.announceSettings(event.changes)
        break
      case 'lobby.waiting':
        if (this.model.amHost) toast(`${event.user.name} is waiting to join.`, 'info')
        break
      case 'breakout.opened':
        if (this.model.myBreakout()) toast('Breakout rooms are open: join yours from the banner.', 'info')
        break
      case 'breakout.broadcast':
        this.broadcast(event.name, event.text)
        break
      case 'breakout.closed':
        if (event.parent && this.model.room.parent_id) {
          toast('The breakout rooms closed: back to the main room.', 'info')
          const parent = this.model.room.parent_id
          window.setTimeout(() => this.navigate(`/rooms/${parent}`, true), 800)
        }
        break
      case 'room.ended':
        break
    }
    this.render(changes)
  }

  private onVolatile(message: Message): void {
    if (message.type === 'chat.typing') this.chat?.onTyping(message.user_id, message.name)
    else if (message.type === 'reaction') this.floatReaction(message.user_id, message.emoji)
    else if (message.type === 'media.offer') this.media.offer(message)
    else if (message.type === 'media.reconnect') this.media.reconnect()
    else if (message.type === 'media.active_speaker') this.tiles?.setSpeaker(message.user_id ?? null)
  }

  private onClosed(info: Closed): void {
    const parent = this.model.room.parent_id
    if (parent && info.code === 4010) {
      this.navigate(`/rooms/${parent}`, true)
      return
    }
    this.media.close()
    this.closeDocs()
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

  // ---------------------------------------------------------------- documents

  private person(): { id: string; name: string; color: string; colorLight: string } {
    const color = colorFor(this.user.id)
    return { id: this.user.id, name: this.user.name, color, colorLight: color.replace('40%)', '85%)') }
  }

  private openDocs(join: api.JoinInfo): void {
    if (!this.boardDoc) this.openBoard(join)
    else this.boardDoc.setToken(join.token)
    if (!this.notesDoc) {
      this.openNotes(join)
    } else this.notesDoc.setToken(join.token)
  }

  private openNotes(join: api.JoinInfo): void {
    this.notesDoc = new RoomDoc(join, 'notes', this.person(), {
      denied: () => this.notesDenied(),
      stopped: (code) => this.docStopped('notes', code),
      token: async () => (await api.rooms.join(this.roomId)).token,
    })
    this.notes?.attach(this.notesDoc)
  }

  /** The server refused our notes edit: reload the notes from the server. */
  private notesDenied(): void {
    if (this.resyncingNotes) return
    this.resyncingNotes = true
    toast('The notes are read-only: your edit was not saved.', 'error')
    window.setTimeout(async () => {
      try {
        const join = await api.rooms.join(this.roomId)
        this.notesDoc?.destroy()
        this.notesDoc = null
        this.openNotes(join)
      } catch {
        // the room channel will report what went wrong
      } finally {
        this.resyncingNotes = false
      }
    }, 300)
  }

  private openBoard(join: api.JoinInfo): void {
    this.boardDoc = new RoomDoc(join, 'whiteboard', this.person(), {
      denied: () => this.boardDenied(),
      stopped: (code) => this.docStopped('whiteboard', code),
      token: async () => (await api.rooms.join(this.roomId)).token,
      status: (connected) => this.board?.root.classList.toggle('disconnected', !connected),
    })
    this.board?.attach(new BoardModel(this.boardDoc.doc, this.user.id), this.boardDoc.provider.awareness)
  }

  /** The server refused our whiteboard update: drop local changes by reloading the board. */
  private boardDenied(): void {
    if (this.resyncing) return
    this.resyncing = true
    toast('The whiteboard is read-only: your change was not accepted.', 'error')
    window.setTimeout(async () => {
      try {
        const join = await api.rooms.join(this.roomId)
        this.boardDoc?.destroy()
        this.boardDoc = null
        this.openBoard(join)
      } catch {
        // the room channel will report what went wrong
      } finally {
        this.resyncing = false
      }
    }, 300)
  }

  private docStopped(kind: string, code: number): void {
    if (code === 4004) toast(`A host deleted the ${kind}.`, 'info')
  }

  // ---------------------------------------------------------------- layout

  private buildLayout(): void {
    this.chat = new ChatPanel(this.ctx)
    this.people = new PeoplePanel(this.ctx)
    this.polls = new PollsPanel(this.ctx)
    this.breakouts = new BreakoutsPanel(this.ctx)
    this.host = new HostPanel(this.ctx, () => this.model.room.title)
    this.board = new Whiteboard()
    this.notes = new NotesEditor(() => this.model.room.title)

    this.titleEl = h('h1.room-title')
    this.chips = h('div.chips')
    const header = h(
      'header.room-header',
      null,
      h('a.button.small', { href: '/', 'data-link': '', 'aria-label': 'Leave the room and go to my rooms' }, '←'),
      h('div.grow', null, this.titleEl, this.chips),
      h('button', { type: 'button', onclick: () => this.invite() }, 'Invite'),
      h('button', { type: 'button', 'aria-label': 'Keyboard shortcuts', title: 'Keyboard shortcuts (?)', onclick: () => this.shortcuts() }, '⌨'),
      h('a.button.danger', { href: '/', 'data-link': '' }, 'Leave'),
    )

    this.tiles = new Tiles(this.ctx, this.media)
    const stageTabs = h('div.tabs', { role: 'tablist', 'aria-label': 'Class space' })
    const stageBody = h('div.stage-body')
    for (const [id, label, panel] of [
      ['whiteboard', 'Whiteboard', this.board.root],
      ['notes', 'Notes', this.notes.root],
    ] as [StageTab, string, HTMLElement][]) {
      const tab = h('button.tab', { type: 'button', role: 'tab', id: `tab-${id}`, 'aria-controls': `panel-${id}`, onclick: () => this.showStage(id) }, label)
      const wrapper = h('div.stage-panel', { role: 'tabpanel', id: `panel-${id}`, 'aria-labelledby': `tab-${id}` }, panel)
      this.stageTabs.set(id, tab)
      this.stagePanels.set(id, wrapper)
      stageTabs.appendChild(tab)
      stageBody.appendChild(wrapper)
    }
    tablistKeys(stageTabs)
    const stage = h('section.stage', { 'aria-label': 'Stage' }, this.tiles.el, this.tiles.sinksEl, stageTabs, stageBody)

    const sideTabs = h('div.tabs', { role: 'tablist', 'aria-label': 'Class tools' })
    const sideBody = h('div.side-body')
    const panels: [SideTab, string, HTMLElement][] = [
      ['chat', 'Chat', this.chat.el],
      ['people', 'People', this.people.el],
      ['polls', 'Polls', this.polls.el],
      ['breakouts', 'Breakouts', this.breakouts.el],
      ['host', 'Host', this.host.el],
    ]
    for (const [id, label, panel] of panels) {
      const tab = h('button.tab', { type: 'button', role: 'tab', id: `tab-${id}`, 'aria-controls': `panel-${id}`, onclick: () => this.showSide(id) }, label)
      const wrapper = h('div.side-panel', { role: 'tabpanel', id: `panel-${id}`, 'aria-labelledby': `tab-${id}` }, panel)
      this.sideTabs.set(id, tab)
      this.sidePanels.set(id, wrapper)
      sideTabs.appendChild(tab)
      sideBody.appendChild(wrapper)
    }
    tablistKeys(sideTabs)
    this.hostTab = this.sideTabs.get('host') as HTMLButtonElement
    const side = h('aside.side', { 'aria-label': 'Chat, people, polls and more' }, sideTabs, sideBody)

    this.handButton = h('button.control', { type: 'button', 'aria-pressed': 'false', title: 'Raise hand (Alt+H)', onclick: () => void this.toggleHand() }, '✋ Raise hand')
    this.micButton = h('button.control', { type: 'button', 'aria-pressed': 'false', title: 'Microphone (Alt+M)', onclick: () => void this.media.toggle('microphone') }, '🔇 Mic off')
    this.camButton = h('button.control', { type: 'button', 'aria-pressed': 'false', title: 'Camera', onclick: () => void this.media.toggle('camera') }, '📷 Camera off')
    this.screenButton = h('button.control', { type: 'button', 'aria-pressed': 'false', title: 'Share your screen', onclick: () => void this.media.toggle('screen') }, '🖥 Share screen')
    this.awayButton = h('button.control', { type: 'button', 'aria-pressed': 'false', title: 'Let others know you stepped away', onclick: () => void this.toggleStatus('away') }, '☕ Away')
    const reactions = h(
      'div.row.tight.reactions-bar',
      { role: 'group', 'aria-label': 'Send a reaction' },
      EMOJI.map((emoji) =>
        h('button.emoji', { type: 'button', 'aria-label': `React ${emoji}`, onclick: () => this.conn.cast({ type: 'reaction.send', emoji }) }, emoji),
      ),
    )
    const controls = h('footer.controls', { 'aria-label': 'My controls' }, this.micButton, this.camButton, this.screenButton, this.handButton, reactions, this.awayButton)
    this.reactionLayer = h('div.reaction-layer', { 'aria-hidden': 'true' })

    this.layout = h('div.room', null, header, this.notices, h('div.room-body', null, stage, side), controls, this.reactionLayer)
    this.el.replaceChildren(this.banner, this.layout)
    this.showSide('chat')
    this.showStage('whiteboard')
  }

  private showSide(tab: SideTab): void {
    this.side = tab
    for (const [id, button] of this.sideTabs) {
      button.setAttribute('aria-selected', String(id === tab))
      button.tabIndex = id === tab ? 0 : -1
    }
    for (const [id, panel] of this.sidePanels) panel.hidden = id !== tab
    if (tab === 'chat') {
      this.unread = 0
      this.renderUnread()
      this.chat.scrollToEnd()
    }
  }

  private showStage(tab: StageTab): void {
    for (const [id, button] of this.stageTabs) {
      button.setAttribute('aria-selected', String(id === tab))
      button.tabIndex = id === tab ? 0 : -1
    }
    for (const [id, panel] of this.stagePanels) panel.hidden = id !== tab
  }

  private renderUnread(): void {
    const tab = this.sideTabs.get('chat')
    if (!tab) return
    fill(tab, 'Chat', this.unread ? h('span.count', { 'data-testid': 'unread', 'aria-label': `${this.unread} unread` }, String(this.unread)) : null)
  }

  private refreshAll(): void {
    this.render(['room', 'participants', 'hands', 'chat', 'polls', 'lobby', 'breakouts', 'spotlight', 'me', 'media'])
  }

  private render(changes: Change[]): void {
    if (!this.layout) return
    const set = new Set(changes)
    const model = this.model
    if (set.has('room') || set.has('me')) {
      this.titleEl.textContent = model.room.title
      document.title = `${model.room.title} · liveclass`
      const s = model.room.settings
      fill(
        this.chips,
        h('span.badge.role', null, model.me.role),
        s.locked ? h('span.badge.warn', { 'data-testid': 'locked-chip' }, '🔒 Locked') : null,
        s.lobby ? h('span.badge', null, 'Waiting room on') : null,
        s.chat_enabled === false ? h('span.badge', null, 'Chat off') : null,
        s.slow_mode_seconds ? h('span.badge', null, `Slow mode ${s.slow_mode_seconds}s`) : null,
        model.room.parent_id ? h('span.badge.info', null, 'Breakout room') : null,
      )
      this.hostTab.hidden = !model.amHost
      if (!model.amHost && this.side === 'host') this.showSide('chat')
      this.host.render()
      this.applyDocAccess()
    }
    if (set.has('media')) {
      this.renderTiles()
      this.renderControls()
    }
    if (set.has('participants') || set.has('me') || set.has('room')) {
      this.chat.renderTargets()
      this.renderTiles()
      this.renderControls()
    }
    if (set.has('participants') || set.has('hands') || set.has('lobby') || set.has('spotlight') || set.has('me')) {
      this.people.render()
      this.renderControls()
      this.renderTiles()
      fill(this.sideTabs.get('people') as HTMLElement, 'People', h('span.count.muted', null, String(model.participants.size)), model.amHost && model.lobby.size ? h('span.count', { 'aria-label': `${model.lobby.size} waiting` }, `+${model.lobby.size}`) : null)
    }
    if (set.has('chat') || set.has('me')) this.chat.render()
    if (set.has('polls') || set.has('me')) this.polls.render()
    if (set.has('breakouts') || set.has('participants') || set.has('me') || set.has('room')) {
      this.breakouts.render()
      this.renderNotices()
    }
  }

  private applyDocAccess(): void {
    const model = this.model
    const locked = model.room.settings
    const boardReason = model.me.role === 'observer' ? 'observers can only watch' : locked.whiteboard_locked ? 'the host locked the whiteboard' : ''
    this.board?.setReadOnly(!model.can('whiteboard_write'), boardReason)
    const notesReason = model.me.role === 'observer' ? 'observers can only read' : locked.notes_locked ? 'the host locked the notes' : ''
    this.notes?.setReadOnly(!model.can('notes_write'), notesReason)
  }

  private renderTiles(): void {
    this.tiles.render()
  }

  private renderControls(): void {
    const model = this.model
    const me = model.participants.get(model.me.user_id)
    const raised = model.handPosition(model.me.user_id) > 0
    this.handButton.setAttribute('aria-pressed', String(raised))
    this.handButton.textContent = raised ? '✋ Lower hand' : '✋ Raise hand'
    this.handButton.disabled = !raised && !model.can('raise_hand')
    const media = this.media
    const mic = media.has('microphone')
    this.micButton.setAttribute('aria-pressed', String(mic))
    this.micButton.textContent = mic ? '🎤 Mic on' : '🔇 Mic off'
    this.micButton.disabled = media.starting.has('microphone') || (!mic && !model.can('publish_audio'))
    const cam = media.has('camera')
    this.camButton.setAttribute('aria-pressed', String(cam))
    this.camButton.textContent = cam ? '📷 Camera on' : '📷 Camera off'
    this.camButton.disabled = media.starting.has('camera') || (!cam && !model.can('publish_video'))
    const screen = media.has('screen')
    this.screenButton.setAttribute('aria-pressed', String(screen))
    this.screenButton.textContent = screen ? '🖥 Stop sharing' : '🖥 Share screen'
    this.screenButton.hidden = !screen && !model.can('publish_screen')
    this.screenButton.disabled = media.starting.has('screen')
    this.awayButton.setAttribute('aria-pressed', String(me?.away ?? false))
  }

  private renderNotices(): void {
    const model = this.model
    const items: HTMLElement[] = []
    const mine = model.myBreakout()
    const b = model.breakouts
    if (!model.room.parent_id && mine && b) {
      items.push(
        h(
          'div.notice.info',
          { 'data-testid': 'breakout-notice' },
          h('span.grow', null, `Breakout rooms are open. You are in “${mine.name}”.`, b.ends_at ? ` Time left: ${remaining(b.ends_at)}` : ''),
          h('button.primary.small', { type: 'button', onclick: () => this.navigate(`/rooms/${mine.id}`) }, `Join ${mine.name}`),
        ),
      )
    }
    if (model.room.parent_id) {
      items.push(
        h(
          'div.notice.info',
          null,
          h('span.grow', null, 'You are in a breakout room.'),
          h('button.small', { type: 'button', onclick: () => this.navigate(`/rooms/${model.room.parent_id}`) }, 'Return to the main room'),
        ),
      )
    }
    const existing = [...this.notices.querySelectorAll<HTMLElement>('.notice.keep')]
    fill(this.notices, items, existing)
  }

  private broadcast(name: string, text: string): void {
    const note = h(
      'div.notice.keep.warn',
      { role: 'alert', 'data-testid': 'broadcast' },
      h('span.grow', null, `📣 ${name}: ${text}`),
      h('button.icon', { type: 'button', 'aria-label': 'Dismiss', onclick: () => note.remove() }, '×'),
    )
    this.notices.appendChild(note)
  }

  private askUnmute(): void {
    const note = h(
      'div.notice.keep.info',
      { role: 'alert' },
      h('span.grow', null, 'A host asks you to unmute your microphone.'),
      h(
        'button.primary.small',
        {
          type: 'button',
          onclick: () => {
            note.remove()
            void this.media.start('microphone')
          },
        },
        'Unmute',
      ),
      h('button.small', { type: 'button', onclick: () => note.remove() }, 'Not now'),
    )
    this.notices.appendChild(note)
  }

  private announceSettings(changes: Record<string, unknown>): void {
    if (this.model.amHost) return
    const said: string[] = []
    if ('locked' in changes) said.push(changes.locked ? 'The host locked the room.' : 'The host unlocked the room.')
    if ('whiteboard_locked' in changes) said.push(changes.whiteboard_locked ? 'The whiteboard is now read-only.' : 'You can draw on the whiteboard again.')
    if ('notes_locked' in changes) said.push(changes.notes_locked ? 'The notes are now read-only.' : 'You can edit the notes again.')
    if ('chat_enabled' in changes) said.push(changes.chat_enabled ? 'Chat is on.' : 'The host turned chat off.')
    for (const text of said) toast(text, 'info')
  }

  private floatReaction(userId: string, emoji: string): void {
    if (!this.reactionLayer) return
    const bubble = h('div.float-reaction', { style: `left:${10 + Math.random() * 70}%` }, emoji, h('small', null, this.model.name(userId)))
    this.reactionLayer.appendChild(bubble)
    window.setTimeout(() => bubble.remove(), 3500)
  }

  // ---------------------------------------------------------------- actions

  private async toggleHand(): Promise<void> {
    const raised = this.model.handPosition(this.model.me.user_id) > 0
    await run(this.ctx, { type: raised ? 'hand.lower' : 'hand.raise' })
  }

  private async toggleStatus(field: 'away'): Promise<void> {
    const me = this.model.participants.get(this.model.me.user_id)
    await run(this.ctx, { type: 'status.set', [field]: !(me?.[field] ?? false) })
  }

  private invite(): void {
    const link = `${location.origin}/rooms/${this.roomId}`
    const input = h('input', { value: link, readonly: true, 'aria-label': 'Room link', onfocus: (e: Event) => (e.target as HTMLInputElement).select() })
    const open = this.model.room.settings.open
    modal(
      'Invite people',
      h(
        'div.stack',
        null,
        h('p', null, open ? 'Anyone signed in with this link can join.' : 'Only invited people can join this room: hosts can invite by email in the Host tab.'),
        h(
          'div.row.tight',
          null,
          input,
          h(
            'button.primary',
            {
              type: 'button',
              onclick: async () => {
                try {
                  await navigator.clipboard.writeText(link)
                  toast('Link copied.', 'success')
                } catch {
                  input.select()
                  toast('Select the link and copy it (Ctrl+C).', 'info')
                }
              },
            },
            'Copy link',
          ),
        ),
      ),
    )
  }

  private shortcuts(): void {
    const rows: [string, string][] = [
      ['Alt+H', 'Raise or lower your hand'],
      ['Alt+C', 'Open the chat and start typing'],
      ['Alt+M', 'Microphone on/off'],
      ['Alt+W', 'Show the whiteboard'],
      ['Alt+N', 'Show the notes'],
      ['Enter / Shift+Enter', 'Send a chat message / new line'],
      ['V H P L A R O T S E', 'Whiteboard tools (when the board has focus)'],
      ['Ctrl+Z, Ctrl+Shift+Z', 'Undo, redo your own whiteboard or notes edits'],
      ['?', 'This help'],
    ]
    modal(
      'Keyboard shortcuts',
      h('table.table', null, h('tbody', null, rows.map(([key, what]) => h('tr', null, h('th', { scope: 'row' }, h('kbd', null, key)), h('td', null, what))))),
    )
  }

  private onKey = (event: KeyboardEvent): void => {
    if (!this.layout) return
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      const actions: Record<string, () => void> = {
        KeyH: () => void this.toggleHand(),
        KeyC: () => this.ctx.openChat(),
        KeyM: () => void this.media.toggle('microphone'),
        KeyW: () => this.showStage('whiteboard'),
        KeyN: () => {
          this.showStage('notes')
          this.notes?.focus()
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
      this.shortcuts()
    }
  }

  private onVisibility = (): void => {
    if (!document.hidden && this.side === 'chat') {
      this.unread = 0
      this.renderUnread()
    }
  }
}
