// A room's recordings, for its hosts: each recorded track plays with the class transcript
// as its captions track (<track kind="captions">, the WebVTT the server aligns with the
// recording's start).

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

export function recordingsPage(roomId: string, user: api.User, navigate: Navigate): Page {
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('recordings.loading')))
  const player = h('div.stack.recording-player')
  const urls: string[] = []

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
      const recordings = await api.request<Recording[]>('GET', `/api/v1/rooms/${encodeURIComponent(roomId)}/recordings`)
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
    destroy: () => urls.forEach((url) => URL.revokeObjectURL(url)),
  }
}
