// A room's attendance and exports, for its hosts.

import * as api from '../api'
import { download, fill, h } from '../dom'
import { formatDateTime, formatDuration, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'

function safeName(title: string): string {
  return title.replace(/[^\w-]+/g, '-').replace(/^-|-$/g, '') || 'room'
}

export function reportPage(roomId: string, user: api.User, navigate: Navigate): Page {
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('report.loading')))
  const heading = h('h1', null, t('report.title'))

  async function load(): Promise<void> {
    try {
      const room = await api.rooms.get(roomId)
      heading.textContent = t('report.heading', { title: room.title })
      const rows = await api.rooms.attendance(roomId)
      const people = new Map<string, { name: string; seconds: number; stays: number }>()
      for (const row of rows) {
        const found = people.get(row.user_id) ?? { name: row.name, seconds: 0, stays: 0 }
        found.seconds += row.seconds
        found.stays += 1
        people.set(row.user_id, found)
      }
      body.setAttribute('aria-busy', 'false')
      fill(
        body,
        h(
          'div.row.wrap',
          null,
          h(
            'button.primary',
            {
              type: 'button',
              onclick: async () => download(`attendance-${safeName(room.title)}.csv`, await api.rooms.attendanceCsv(roomId)),
            },
            t('report.csv'),
          ),
          h(
            'button',
            {
              type: 'button',
              onclick: async () => download(`chat-${safeName(room.title)}.csv`, await api.rooms.chatCsv(roomId)),
            },
            t('report.chatCsv'),
          ),
          h(
            'button',
            {
              type: 'button',
              onclick: async () => {
                const doc = await api.request<{ content: { text: string } }>('GET', `/api/v1/documents/rooms/${roomId}/notes`)
                download(`${safeName(room.title)}-notes.md`, doc.content.text ?? '', 'text/markdown')
              },
            },
            t('report.notes'),
          ),
          h('a.button', { href: `/rooms/${roomId}/recordings`, 'data-link': '' }, 'Recordings'),
          room.status !== 'ended' ? h('a.button', { href: `/rooms/${roomId}`, 'data-link': '' }, t('report.toRoom')) : null,
        ),
        h('p', null, t('report.summary', { count: people.size })),
        rows.length
          ? h(
              'div.table-wrap',
              { role: 'region', 'aria-label': t('report.caption'), tabindex: 0 },
              h(
                'table.table',
                null,
                h('caption', null, t('report.caption')),
                h('thead', null, h('tr', null, (['name', 'role', 'joined', 'left', 'time'] as const).map((col) => h('th', { scope: 'col' }, t(`report.col.${col}`))))),
                h(
                  'tbody',
                  null,
                  rows.map((row) =>
                    h(
                      'tr',
                      null,
                      h('td', null, row.name),
                      h('td', null, row.role),
                      h('td', null, formatDateTime(row.joined_at)),
                      h('td', null, row.left_at ? formatDateTime(row.left_at) : t('report.stillHere')),
                      h('td', null, formatDuration(row.seconds)),
                    ),
                  ),
                ),
              ),
            )
          : h('p.muted', null, t('report.nobody')),
      )
    } catch (error) {
      fill(body, h('p.error', { role: 'alert' }, error instanceof api.ApiError ? error.readable : t('report.failed')))
    }
  }

  void load()
  return {
    title: t('report.title'),
    el: h(
      'div.shell',
      null,
      topbar(user, navigate),
      h('main#main.page', null, h('p', null, h('a', { href: '/', 'data-link': '' }, t('report.back'))), heading, body),
    ),
  }
}
