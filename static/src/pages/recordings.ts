// A room's recordings, for its hosts: each recorded track plays with the class transcript
// as its captions track (<track kind="captions">, the WebVTT the server aligns with the
// recording's start). In a course's room, a recording can be published as a course video
// (the server muxes and transcodes it into the HLS ladder); its progress is followed here.

import * as api from '../api'
import { fill, h } from '../dom'
import { formatDateTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'

interface RecordingFile {
  id: string
  source: string
  kind: string
  content_type: string
  url: string
  stopped_at: string | null
}

interface Recording {
  id: string
  started_at: string
  stopped_at: string | null
  files: RecordingFile[]
  captions_url: string
}

async function blobUrl(path: string): Promise<string> {
  const response = await api.request<Response>('GET', path, { raw: true })
  return URL.createObjectURL(await response.blob())
}

const FOLLOW_MS = 1500

export function recordingsPage(roomId: string, user: api.User, navigate: Navigate): Page {
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('recordings.loading')))
  const player = h('div.stack.recording-player')
  const urls: string[] = []
  let alive = true

  function report(status: HTMLElement, video: api.CourseVideoState): boolean {
    const title = video.title
    if (video.status === 'ready') {
      fill(
        status,
        h('span', null, t('recordings.publish.ready', { title }), ' '),
        h('a', { href: `/courses/${encodeURIComponent(video.course_id)}`, 'data-link': '' }, t('recordings.publish.add')),
      )
      return true
    }
    if (video.status === 'failed') {
      fill(status, t('recordings.publish.failed', { reason: video.error ?? '' }))
      return true
    }
    const percent = Math.floor(video.progress * 100)
    fill(status, percent > 0 ? t('recordings.publish.progress', { title, percent }) : t('recordings.publish.started', { title }))
    return false
  }

  async function publish(recording: Recording, button: HTMLButtonElement, status: HTMLElement): Promise<void> {
    button.disabled = true
    try {
      let video = await api.rooms.publishRecording(roomId, recording.id)
      while (alive && !report(status, video)) {
        await new Promise((resolve) => setTimeout(resolve, FOLLOW_MS))
        video = await api.rooms.video(video.id)
      }
    } catch (error) {
      fill(status, error instanceof Error ? error.message : t('recordings.failed'))
    } finally {
      button.disabled = false
    }
  }

  function publishing(recording: Recording): HTMLElement[] {
    const status = h('p', { role: 'status', 'data-testid': 'publish-status' })
    const button = h('button', { type: 'button' }, t('recordings.publish'))
    button.addEventListener('click', () => void publish(recording, button, status))
    return [button, status]
  }

  async function play(recording: Recording, file: RecordingFile): Promise<void> {
    const media = h(file.kind === 'video' ? 'video' : 'audio', { controls: true, 'data-testid': 'recording-player' })
    const [src, captions] = await Promise.all([blobUrl(file.url), blobUrl(recording.captions_url)])
    urls.push(src, captions)
    media.src = src
    // No srclang: the transcript is in whatever language the class spoke (captions, unlike
    // subtitles, need none), so the player does not claim one.
    media.appendChild(h('track', { kind: 'captions', src: captions, label: t('recordings.captions'), default: true }))
    fill(player, media)
    media.focus()
  }

  async function load(): Promise<void> {
    try {
      const [recordings, room] = await Promise.all([
        api.request<Recording[]>('GET', `/api/v1/rooms/${encodeURIComponent(roomId)}/recordings`),
        api.rooms.get(roomId),
      ])
      const inCourse = Boolean(room.course_id)
      body.setAttribute('aria-busy', 'false')
      fill(
        body,
        recordings.length
          ? h(
              'ul.stack',
              null,
              recordings.map((recording) =>
                h(
                  'li.card.stack',
                  null,
                  h('h2', null, t(recording.stopped_at ? 'recordings.recording' : 'recordings.recording.running', { started: formatDateTime(recording.started_at) })),
                  h(
                    'p.row.wrap',
                    null,
                    recording.files
                      .filter((file) => file.stopped_at)
                      .map((file) => h('button', { type: 'button', onclick: () => void play(recording, file) }, t('recordings.play', { source: file.source, kind: file.kind }))),
                    h(
                      'button',
                      {
                        type: 'button',
                        onclick: async () => {
                          const url = await blobUrl(recording.captions_url)
                          urls.push(url)
                          h('a', { href: url, download: `captions-${recording.id}.vtt` }).click()
                        },
                      },
                      t('recordings.transcript'),
                    ),
                  ),
                  inCourse && recording.stopped_at ? h('div.stack', null, publishing(recording)) : null,
                ),
              ),
            )
          : h('p', null, t('recordings.none')),
        player,
        h('p', null, h('a.button', { href: `/rooms/${roomId}/report`, 'data-link': '' }, t('recordings.back'))),
      )
    } catch (error) {
      body.setAttribute('aria-busy', 'false')
      fill(body, h('p', { role: 'alert' }, error instanceof Error ? error.message : t('recordings.failed')))
    }
  }

  void load()
  return {
    title: t('recordings.title'),
    el: h('div', null, topbar(user, navigate), h('main#main.page', null, h('h1', null, t('recordings.title')), body)),
    destroy: () => {
      alive = false
      urls.forEach((url) => URL.revokeObjectURL(url))
    },
  }
}
