// A course video: the HLS ladder played with hls.js (loaded on first use), a quality menu
// (automatic or a chosen rendition), playback speed, the caption tracks, resuming where the
// learner left off, and heartbeats of what was actually played (the server counts the
// played ranges against the video's own length, so seeking to the end counts nothing).
// Staff see a video still being transcoded with its progress, or why it failed.

import type Hls from 'hls.js'
import * as api from '../api'
import { announce, fill, h } from '../dom'
import { formatClock, formatPercent, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'

interface Playback {
  master: string
  poster: string
  thumbnails: string
  captions: Record<string, string>
  expires_at: string
}

interface Video {
  id: string
  title: string
  status: 'queued' | 'processing' | 'ready' | 'failed'
  progress: number
  error: string | null
  duration: number | null
  renditions: { name: string; height: number; bandwidth: number }[]
  captions: { language: string; label: string }[]
  playback: Playback | null
}

interface Item {
  id: string
  kind: string
  title: string
  target_id: string | null
  progress: { position: number; watched_share: number; completed: boolean } | null
}

interface Content {
  modules: { items: Item[] }[]
}

const HEARTBEAT_MS = 10_000
const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]
const RESUME_MARGIN = 5

/** Ranges of the video actually played, from the element's time updates. */
class PlayedRanges {
  private ranges: [number, number][] = []
  private last: number | null = null

  /** The element played on to ``time``: extend the current range, or start one after a seek. */
  advance(time: number, rate: number, playing: boolean): void {
    const step = this.last === null ? -1 : time - this.last
    if (playing && this.last !== null && step > 0 && step <= 2 * rate + 0.5) {
      const current = this.ranges[this.ranges.length - 1]
      if (current && current[1] === this.last) current[1] = time
      else this.ranges.push([this.last, time])
    }
    this.last = time
  }

  /** A seek or a pause: the next update starts a new range. */
  cut(): void {
    this.last = null
  }

  take(): [number, number][] {
    const taken = this.ranges
    this.ranges = []
    return taken.filter(([from, to]) => to > from)
  }
}

async function findItem(courseId: string, itemId: string): Promise<Item | null> {
  const content = await api.request<Content>('GET', `/api/v1/courses/${encodeURIComponent(courseId)}/content`)
  for (const module of content.modules) {
    for (const item of module.items) if (item.id === itemId) return item
  }
  return null
}

export function watchPage(courseId: string, target: { itemId?: string; videoId?: string }, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', { tabindex: -1 }, t('watch.title'))
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('watch.loading')))
  const status = h('p.small', { 'data-testid': 'watch-status', role: 'status' })
  let hls: Hls | null = null
  let timer: number | undefined
  let poll: number | undefined
  let flush: (() => Promise<void>) | null = null
  const played = new PlayedRanges()

  async function send(event: 'view' | 'heartbeat', item: Item, extra: Record<string, unknown> = {}): Promise<void> {
    try {
      await api.request('POST', `/api/v1/items/${item.id}/progress`, { json: { event, ...extra } })
    } catch {
      // progress is best effort from the page's side; the next heartbeat carries the ranges
    }
  }

  function player(video: Video, playback: Playback, item: Item | null): HTMLElement {
    const media = h('video', { controls: true, playsinline: true, preload: 'metadata', poster: playback.poster, 'data-testid': 'player', 'aria-label': video.title }) as HTMLVideoElement
    for (const track of video.captions) {
      const src = playback.captions[track.language]
      if (src) media.append(h('track', { kind: 'captions', src, srclang: track.language, label: track.label }))
    }
    const quality = h('select#watch-quality', { 'data-testid': 'quality' }, h('option', { value: '-1' }, t('watch.quality.auto'))) as HTMLSelectElement
    const speed = h('select#watch-speed', null, SPEEDS.map((rate) => h('option', { value: String(rate), selected: rate === 1 }, t('watch.speed.value', { rate })))) as HTMLSelectElement
    speed.addEventListener('change', () => {
      media.playbackRate = Number(speed.value)
    })
    const level = h('span.small.muted', { 'data-testid': 'level' })
    void attach(media, playback.master, quality, level)

    if (item) {
      const resumeAt = item.progress?.position ?? 0
      media.addEventListener('loadedmetadata', () => {
        if (resumeAt > RESUME_MARGIN && resumeAt < media.duration - RESUME_MARGIN) {
          media.currentTime = resumeAt
          announce(t('watch.resumed', { at: formatClock(resumeAt) }))
        }
      }, { once: true })
      media.addEventListener('timeupdate', () => played.advance(media.currentTime, media.playbackRate, !media.paused && !media.seeking))
      media.addEventListener('seeking', () => played.cut())
      flush = async () => {
        const ranges = played.take()
        if (ranges.length) await send('heartbeat', item, { played: ranges, position: media.currentTime })
      }
      for (const name of ['pause', 'ended']) media.addEventListener(name, () => { played.cut(); void flush?.() })
      timer = window.setInterval(() => void flush?.(), HEARTBEAT_MS)
    }
    return h(
      'div.stack.watch',
      null,
      media,
      h('div.row.wrap', null,
        h('label', { for: 'watch-quality' }, t('watch.quality')), quality,
        h('label', { for: 'watch-speed' }, t('watch.speed')), speed,
        level,
      ),
    )
  }

  async function attach(media: HTMLVideoElement, master: string, quality: HTMLSelectElement, level: HTMLElement): Promise<void> {
    // The light build (no subtitle or alternate-audio engines: captions are native tracks).
    const { default: HlsClass } = await import('hls.js/light')
    if (!HlsClass.isSupported()) {
      media.src = master // Safari plays HLS itself
      quality.disabled = true
      return
    }
    hls = new HlsClass({ capLevelToPlayerSize: false })
    hls.on(HlsClass.Events.MANIFEST_PARSED, (_event, data) => {
      data.levels.forEach((found, index) => quality.append(h('option', { value: String(index) }, t('watch.quality.level', { height: found.height }))))
    })
    hls.on(HlsClass.Events.LEVEL_SWITCHED, (_event, data) => {
      const height = hls?.levels[data.level]?.height
      if (height) {
        level.textContent = t('watch.playing', { height })
        level.dataset.height = String(height)
      }
    })
    quality.addEventListener('change', () => {
      if (hls) hls.currentLevel = Number(quality.value)
    })
    hls.loadSource(master)
    hls.attachMedia(media)
  }

  async function load(): Promise<void> {
    try {
      const item = target.itemId ? await findItem(courseId, target.itemId) : null
      const videoId = target.videoId ?? item?.target_id
      if (!videoId || (target.itemId && item?.kind !== 'video')) throw new Error(t('watch.missing'))
      const video = await api.request<Video>('GET', `/api/v1/videos/${encodeURIComponent(videoId)}`)
      heading.textContent = item?.title ?? video.title
      body.setAttribute('aria-busy', 'false')
      if (video.status !== 'ready' || !video.playback) {
        status.textContent = video.status === 'failed'
          ? t('watch.failed', { reason: video.error ?? '' })
          : t('watch.processing', { percent: formatPercent(video.progress) })
        fill(body, status, h('progress', { max: 1, value: video.progress, 'aria-label': t('watch.transcoding') }))
        if (video.status !== 'failed') poll = window.setTimeout(() => void load(), 2000)
        return
      }
      fill(body, player(video, video.playback, item))
      if (item) void send('view', item)
    } catch (error) {
      body.setAttribute('aria-busy', 'false')
      fill(body, h('p', { role: 'alert' }, error instanceof Error ? error.message : t('watch.missing')))
    }
  }

  const onHide = (): void => void flush?.()
  window.addEventListener('pagehide', onHide)
  void load()
  return {
    title: t('watch.title'),
    el: h('div', null, topbar(user, navigate), h('main#main.page.stack', null, heading, h('p', null, h('a', { href: `/courses/${encodeURIComponent(courseId)}`, 'data-link': '' }, t('files.back'))), body)),
    destroy: () => {
      void flush?.()
      window.clearInterval(timer)
      window.clearTimeout(poll)
      window.removeEventListener('pagehide', onHide)
      hls?.destroy()
    },
  }
}
