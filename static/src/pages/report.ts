// A room's attendance and exports, for its hosts.

import * as api from '../api'
import { download, fill, h } from '../dom'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'

function duration(seconds: number): string {
  const m = Math.floor(seconds / 60)
  const s = seconds % 60
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min ${s} s`
}

function safeName(title: string): string {
  return title.replace(/[^\w-]+/g, '-').replace(/^-|-$/g, '') || 'room'
}

export function reportPage(roomId: string, user: api.User, navigate: Navigate): Page {
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, 'Loading attendance…'))
  const heading = h('h1', null, 'Attendance')

  async function load(): Promise<void> {
    try {
      const room = await api.rooms.get(roomId)
      heading.textContent = `Attendance: ${room.title}`
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
            'Download attendance CSV',
          ),
          h(
            'button',
            {
              type: 'button',
              onclick: async () => download(`chat-${safeName(room.title)}.csv`, await api.rooms.chatCsv(roomId)),
            },
            'Download chat CSV',
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
            'Download shared notes (.md)',
          ),
          room.status !== 'ended' ? h('a.button', { href: `/rooms/${roomId}`, 'data-link': '' }, 'Back to the room') : null,
        ),
        h('p', null, `${people.size} ${people.size === 1 ? 'person' : 'people'} attended. Chat can be exported from inside the room (Host tab).`),
        rows.length
          ? h(
              'div.table-wrap',
              null,
              h(
                'table.table',
                null,
                h('caption', null, 'Every stay in the room, in order of arrival'),
                h('thead', null, h('tr', null, ['Name', 'Role', 'Joined', 'Left', 'Time'].map((label) => h('th', { scope: 'col' }, label)))),
                h(
                  'tbody',
                  null,
                  rows.map((row) =>
                    h(
                      'tr',
                      null,
                      h('td', null, row.name),
                      h('td', null, row.role),
                      h('td', null, new Date(row.joined_at).toLocaleString()),
                      h('td', null, row.left_at ? new Date(row.left_at).toLocaleString() : 'still here'),
                      h('td', null, duration(row.seconds)),
                    ),
                  ),
                ),
              ),
            )
          : h('p.muted', null, 'Nobody has joined yet.'),
      )
    } catch (error) {
      fill(body, h('p.error', { role: 'alert' }, error instanceof api.ApiError ? error.readable : 'Could not load attendance.'))
    }
  }

  void load()
  return {
    title: 'Attendance',
    el: h(
      'div.shell',
      null,
      topbar(user, navigate),
      h('main#main.page', null, h('p', null, h('a', { href: '/', 'data-link': '' }, '← My rooms')), heading, body),
    ),
  }
}
