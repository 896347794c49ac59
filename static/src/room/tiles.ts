// Video tiles: one per participant (their camera, or their avatar when it is off), one more
// per screen share, plus hidden <audio> sinks for everyone's microphone. Elements are kept
// across renders so playing video is never interrupted by unrelated room changes.

import { avatarColor, fill, h, initials, Roving } from '../dom'
import { t } from '../i18n'
import { type RoomContext, run } from './context'
import type { MediaClient, Source } from './media'
import type { Participant } from './model'

interface Shown {
  track: MediaStreamTrack
  /** The server's track id (or local-<source> for our own preview). */
  id: string
}

interface Tile {
  el: HTMLElement
  video: HTMLVideoElement
  label: HTMLElement
  actions: HTMLElement
}

export class Tiles {
  readonly el: HTMLElement
  private readonly tiles = new Map<string, Tile>()
  private readonly sinks = new Map<string, HTMLAudioElement>()
  private readonly audio: HTMLElement
  private speaker: string | null = null
  private readonly roving: Roving

  constructor(
    private readonly ctx: RoomContext,
    private readonly media: MediaClient,
  ) {
    this.audio = h('div.audio-sinks', { hidden: true })
    this.el = h('div.tiles', { 'aria-label': t('tiles.label'), role: 'list' })
    // A host's buttons on the tiles are one Tab stop (arrow keys between them).
    this.roving = new Roving(this.el, 'button', 'horizontal')
  }

  /** The element holding the audio sinks (kept outside the tile list, never visible). */
  get sinksEl(): HTMLElement {
    return this.audio
  }

  render(): void {
    const model = this.ctx.model
    const people = [...model.participants.values()].sort((a, b) =>
      a.user_id === model.spotlight ? -1 : b.user_id === model.spotlight ? 1 : a.name.localeCompare(b.name),
    )
    const wanted: [string, Participant, Source][] = people.map((p) => [p.user_id, p, 'camera'])
    for (const p of people) {
      if (this.trackOf(p.user_id, 'screen')) wanted.push([`${p.user_id}:screen`, p, 'screen'])
    }
    const keys = new Set(wanted.map(([key]) => key))
    for (const [key, tile] of this.tiles) {
      if (!keys.has(key)) {
        tile.video.srcObject = null
        tile.el.remove()
        this.tiles.delete(key)
      }
    }
    const order: HTMLElement[] = []
    for (const [key, p, source] of wanted) {
      const tile = this.tiles.get(key) ?? this.create(key, p.user_id, source)
      this.update(tile, p, source)
      order.push(tile.el)
    }
    const current = [...this.el.children]
    if (current.length !== order.length || order.some((el, i) => current[i] !== el)) {
      this.el.append(...order) // moving playing videos synchronously does not pause them
      for (const tile of this.tiles.values()) if (tile.video.srcObject) void tile.video.play().catch(() => undefined)
    }
    this.renderSinks()
    this.roving.sync()
  }

  /** Highlight the active speaker (media.active_speaker); null clears it. */
  setSpeaker(userId: string | null): void {
    this.speaker = userId || null
    for (const [key, tile] of this.tiles) tile.el.classList.toggle('speaking', key === this.speaker)
  }

  private create(key: string, userId: string, source: Source): Tile {
    const video = h('video', { autoplay: true, playsinline: true, muted: true, hidden: true, 'data-user-id': userId, 'data-source': source, 'data-state': 'stopped' })
    video.muted = true // sound goes through the audio sinks
    const label = h('span.tile-name')
    const actions = h('div.tile-actions')
    const el = h(
      'div.tile',
      { role: 'listitem', 'data-user-id': userId, 'data-source': source },
      h('div.video-slot', { 'data-video-slot': userId }, video),
      h('span.avatar.large', { 'aria-hidden': 'true', style: `background:${avatarColor(userId)}` }, initials(this.ctx.model.name(userId))),
      label,
      actions,
    )
    const tile = { el, video, label, actions }
    this.tiles.set(key, tile)
    return tile
  }

  private update(tile: Tile, p: Participant, source: Source): void {
    const model = this.ctx.model
    const me = p.user_id === model.me.user_id
    const track = this.trackOf(p.user_id, source)
    bind(tile.video, track)
    tile.video.classList.toggle('mirror', me && source === 'camera')
    const micOn = me ? this.media.has('microphone') : Boolean(model.track(p.user_id, 'microphone'))
    const hand = model.handPosition(p.user_id)
    const spotlight = p.user_id === model.spotlight
    const screen = source === 'screen'
    tile.el.className = `tile${screen ? ' screen-tile' : ''}${spotlight && !screen ? ' spotlight' : ''}${p.away ? ' away' : ''}${track ? ' has-video' : ''}${!screen && this.speaker === p.user_id ? ' speaking' : ''}`
    tile.el.setAttribute(
      'aria-label',
      screen
        ? t('tiles.screen', { name: p.name })
        : [p.name, spotlight ? t('tiles.spotlight') : '', hand ? t('tiles.hand') : '', track ? t('tiles.cameraOn') : '', micOn ? '' : t('tiles.micOff')].filter(Boolean).join(', '),
    )
    fill(
      tile.label,
      hand && !screen ? '✋ ' : '',
      me ? t('people.you', { name: p.name }) : p.name,
      screen ? ` ${t('tiles.screenSuffix')}` : '',
      !screen && !micOn ? h('span.muted-indicator', { title: t('tiles.micOff'), 'data-testid': 'mic-off' }, ' 🔇') : null,
    )
    fill(tile.actions, this.hostActions(p, source))
  }

  /** Hosts stop a participant's camera, microphone or screen share server-side (media.mute). */
  private hostActions(p: Participant, source: Source): HTMLElement[] {
    const model = this.ctx.model
    if (!model.amHost || p.user_id === model.me.user_id) return []
    const mute = (what: Source): void => void run(this.ctx, { type: 'media.mute', user_id: p.user_id, source: what })
    const buttons: HTMLElement[] = []
    const button = (what: Source, text: string, label: string): void => {
      if (model.track(p.user_id, what)) buttons.push(h('button.small', { type: 'button', 'aria-label': label, title: label, onclick: () => mute(what) }, text))
    }
    if (source === 'screen') button('screen', '⏹', t('tiles.stopScreen', { name: p.name }))
    else {
      button('camera', '🚫📷', t('tiles.stopVideo', { name: p.name }))
      button('microphone', '🔇', t('tiles.mute', { name: p.name }))
    }
    return buttons
  }

  /** Our own preview, or what the server forwards from that person's ``source``. */
  private trackOf(userId: string, source: Source): Shown | null {
    if (userId === this.ctx.model.me.user_id) {
      const track = this.media.local.get(source)
      return track ? { track, id: `local-${source}` } : null
    }
    for (const { info, track } of this.media.remote.values()) {
      if (info.user_id === userId && info.source === source) return { track, id: info.track_id }
    }
    return null
  }

  private renderSinks(): void {
    const me = this.ctx.model.me.user_id
    const wanted = new Map<string, { user: string; track: MediaStreamTrack }>()
    for (const [id, { info, track }] of this.media.remote) {
      if (info.kind === 'audio' && info.user_id !== me) wanted.set(id, { user: info.user_id, track })
    }
    for (const [id, sink] of this.sinks) {
      if (!wanted.has(id)) {
        sink.srcObject = null
        sink.remove()
        this.sinks.delete(id)
      }
    }
    for (const [id, { user, track }] of wanted) {
      let sink = this.sinks.get(id)
      if (!sink) {
        sink = h('audio', { autoplay: true, 'data-user-id': user, 'data-source': 'microphone', 'data-track-id': id })
        this.sinks.set(id, sink)
        this.audio.appendChild(sink)
      }
      if ((sink.srcObject as MediaStream | null)?.getTracks()[0] !== track) {
        sink.srcObject = new MediaStream([track])
        void sink.play().catch(() => undefined)
      }
    }
  }
}

/** Show ``track`` in ``video`` (or nothing), touching the element only when it changes. */
function bind(video: HTMLVideoElement, shown: Shown | null): void {
  const track = shown?.track ?? null
  const showing = (video.srcObject as MediaStream | null)?.getTracks()[0] ?? null
  if (showing === track && video.dataset.trackId === shown?.id) return
  if (!shown || !track) {
    video.srcObject = null
    video.hidden = true
    video.dataset.state = 'stopped'
    delete video.dataset.trackId
    return
  }
  video.srcObject = new MediaStream([track])
  video.hidden = false
  video.dataset.state = 'live'
  video.dataset.trackId = shown.id
  void video.play().catch(() => undefined)
}
