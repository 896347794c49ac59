// Home: my rooms, start a room (instructors and admins), join a room by its link.

import * as api from '../api'
import { fill, formatTime, h } from '../dom'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'

const ROOM_ID = /([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})/

export function homePage(user: api.User, navigate: Navigate, focusCreate = false): Page {
  const canCreate = user.role === 'instructor' || user.role === 'admin'
  const list = h('div.stack', { 'aria-live': 'polite', 'aria-busy': 'true' }, h('p.muted', null, 'Loading your rooms…'))

  async function load(): Promise<void> {
    try {
      const [open, ended] = await Promise.all([api.rooms.list('open'), api.rooms.list('ended')])
      list.setAttribute('aria-busy', 'false')
      const rows = [...open.items, ...ended.items]
      if (!rows.length) {
        fill(
          list,
          h('p.muted', null, canCreate ? 'No rooms yet. Start one above.' : 'No rooms yet. Open a link your instructor shared, or paste it below.'),
        )
        return
      }
      fill(
        list,
        h(
          'ul.room-list',
          { 'aria-label': 'My rooms' },
          rows.map((room) =>
            h(
              'li.room-item',
              { 'data-room-id': room.id },
              h(
                'div.grow',
                null,
                h('a.room-link', { href: `/rooms/${room.id}`, 'data-link': '' }, room.title),
                h(
                  'div.muted.small',
                  null,
                  `${room.my_role ?? 'guest'} · ${room.status === 'ended' ? 'ended' : 'live'} · created ${new Date(room.created_at).toLocaleDateString()} ${formatTime(room.created_at)}`,
                ),
              ),
              room.status !== 'ended' ? h('a.button.primary', { href: `/rooms/${room.id}`, 'data-link': '' }, 'Enter') : h('span.badge', null, 'Ended'),
              room.my_role === 'host' || room.my_role === 'co-host'
                ? h('a.button', { href: `/rooms/${room.id}/report`, 'data-link': '', 'aria-label': `Attendance for ${room.title}` }, 'Attendance')
                : null,
            ),
          ),
        ),
      )
    } catch (error) {
      fill(list, h('p.error', { role: 'alert' }, error instanceof api.ApiError ? error.readable : 'Could not load your rooms.'))
    }
  }

  const courseList = h('div.stack', { 'aria-live': 'polite' })
  const course = h('select', { id: 'room-course' }, h('option', { value: '' }, 'No course'))
  const courseField = h('div.field', { hidden: true }, h('label', { for: 'room-course' }, 'Course'), course)

  async function loadCourses(): Promise<void> {
    try {
      const found = (await api.courses.mine()).items
      if (!found.length) return
      fill(
        courseList,
        h('h2#courses-title', null, 'My courses'),
        h(
          'ul.room-list',
          { 'aria-labelledby': 'courses-title' },
          found.map((c) =>
            h(
              'li.room-item',
              { 'data-course-id': c.id },
              h('div.grow', null, h('strong', null, c.title), h('div.muted.small', null, `${c.code} · ${c.my_role ?? 'admin'} · ${c.status}`)),
            ),
          ),
        ),
      )
      const teaching = found.filter((c) => c.my_role === 'instructor' || c.my_role === 'ta' || (c.my_role === null && user.role === 'admin'))
      if (canCreate && teaching.length) {
        for (const c of teaching) course.appendChild(h('option', { value: c.id }, `${c.title} (${c.code})`))
        courseField.hidden = false
      }
    } catch {
      // courses are optional on the home page
    }
  }

  const createError = h('p.error', { role: 'alert', hidden: true })
  const title = h('input', { id: 'room-title', name: 'title', required: true, maxlength: 200, placeholder: 'e.g. Algebra — week 3', autofocus: focusCreate })
  const open = h('input', { id: 'room-open', type: 'checkbox', checked: true })
  const lobby = h('input', { id: 'room-lobby', type: 'checkbox' })
  const createForm = canCreate
    ? h(
        'form.card.stack',
        {
          'aria-labelledby': 'create-title',
          onsubmit: async (event: Event) => {
            event.preventDefault()
            createError.hidden = true
            try {
              const room = await api.rooms.create(title.value.trim(), {
                open: open.checked,
                lobby: lobby.checked,
                ...(course.value ? { course_id: course.value } : {}),
              })
              navigate(`/rooms/${room.id}`)
            } catch (error) {
              createError.textContent = error instanceof api.ApiError ? error.readable : 'Could not create the room.'
              createError.hidden = false
            }
          },
        },
        h('h2#create-title', null, 'Start a live class'),
        h('div.field', null, h('label', { for: 'room-title' }, 'Class title'), title),
        courseField,
        h('label.check', { for: 'room-open' }, open, 'Anyone signed in with the link can join'),
        h('label.check', { for: 'room-lobby' }, lobby, 'Waiting room: I let people in'),
        createError,
        h('button.primary', { type: 'submit' }, 'Create room'),
      )
    : h(
        'section.card.stack',
        { 'aria-labelledby': 'create-title' },
        h('h2#create-title', null, 'Join your class'),
        h('p.muted', null, 'Your instructor shares a link to the live class. Open it, or paste it below. Only instructors can start rooms.'),
      )

  const joinInput = h('input', { id: 'join-link', placeholder: 'https://…/rooms/…', required: true })
  const joinError = h('p.error', { role: 'alert', hidden: true })
  const joinForm = h(
    'form.card.stack',
    {
      'aria-labelledby': 'join-title',
      onsubmit: (event: Event) => {
        event.preventDefault()
        const found = ROOM_ID.exec(joinInput.value)
        if (!found) {
          joinError.textContent = 'That does not look like a room link.'
          joinError.hidden = false
          return
        }
        navigate(`/rooms/${found[1].toLowerCase()}`)
      },
    },
    h('h2#join-title', null, 'Join by link'),
    h('div.field', null, h('label', { for: 'join-link' }, 'Room link or code'), joinInput),
    joinError,
    h('button', { type: 'submit' }, 'Join'),
  )

  void load()
  void loadCourses()
  return {
    title: 'My rooms',
    el: h(
      'div.shell',
      null,
      topbar(user, navigate),
      h(
        'main#main.page',
        null,
        h('h1', null, `Welcome, ${user.name}`),
        h('div.grid-2', null, createForm, joinForm),
        h('section.stack', { 'aria-labelledby': 'rooms-title' }, h('h2#rooms-title', null, 'My rooms'), list),
        h('section.stack', null, courseList),
      ),
    ),
  }
}
