// Home: my rooms, start a room (instructors and admins), join a room by its link.

import * as api from '../api'
import { fill, h } from '../dom'
import { formatDateTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'

const ROOM_ID = /([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})/

export function homePage(user: api.User, navigate: Navigate, focusCreate = false): Page {
  const canCreate = user.role === 'instructor' || user.role === 'admin'
  const list = h('div.stack', { 'aria-live': 'polite', 'aria-busy': 'true' }, h('p.muted', null, t('home.loading')))

  async function load(): Promise<void> {
    try {
      const [open, ended] = await Promise.all([api.rooms.list('open'), api.rooms.list('ended')])
      list.setAttribute('aria-busy', 'false')
      const rows = [...open.items, ...ended.items]
      if (!rows.length) {
        fill(
          list,
          h('p.muted', null, t(canCreate ? 'home.none.teacher' : 'home.none.student')),
        )
        return
      }
      fill(
        list,
        h(
          'ul.room-list',
          { 'aria-label': t('home.myRooms') },
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
                  t('home.roomLine', { role: room.my_role ? t(`roomRole.${room.my_role}`) : t('home.guest'), status: t(room.status === 'ended' ? 'home.status.ended' : 'home.status.live'), when: formatDateTime(room.created_at) }),
                ),
              ),
              room.status !== 'ended' ? h('a.button.primary', { href: `/rooms/${room.id}`, 'data-link': '' }, t('home.enter')) : h('span.badge', null, t('home.ended')),
              room.my_role === 'host' || room.my_role === 'co-host'
                ? h('a.button', { href: `/rooms/${room.id}/report`, 'data-link': '', 'aria-label': t('home.attendanceFor', { title: room.title }) }, t('home.attendance'))
                : null,
            ),
          ),
        ),
      )
    } catch (error) {
      fill(list, h('p.error', { role: 'alert' }, error instanceof api.ApiError ? error.readable : t('home.loadFailed')))
    }
  }

  const courseList = h('div.stack', { 'aria-live': 'polite' })
  const course = h('select', { id: 'room-course' }, h('option', { value: '' }, t('home.noCourse')))
  const courseField = h('div.field', { hidden: true }, h('label', { for: 'room-course' }, t('home.course')), course)

  async function loadCourses(): Promise<void> {
    try {
      const found = (await api.courses.mine()).items
      if (!found.length) return
      fill(
        courseList,
        h('h2#courses-title', null, t('home.myCourses')),
        h(
          'ul.room-list',
          { 'aria-labelledby': 'courses-title' },
          found.map((c) =>
            h(
              'li.room-item',
              { 'data-course-id': c.id },
              h('div.grow', null, h('a.room-link', { href: `/courses/${c.id}`, 'data-link': '' }, c.title), h('div.muted.small', null, t('home.courseLine', { code: c.code, role: c.my_role ?? t('role.admin'), status: c.status }))),
            ),
          ),
        ),
      )
      const teaching = found.filter((c) => c.my_role === 'instructor' || c.my_role === 'ta' || (c.my_role === null && user.role === 'admin'))
      if (canCreate && teaching.length) {
        for (const c of teaching) course.appendChild(h('option', { value: c.id }, t('home.courseOption', { title: c.title, code: c.code })))
        courseField.hidden = false
      }
    } catch {
      // courses are optional on the home page
    }
  }

  const createError = h('p.error', { role: 'alert', hidden: true })
  const title = h('input', { id: 'room-title', name: 'title', required: true, maxlength: 200, placeholder: t('home.create.placeholder'), autofocus: focusCreate })
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
              createError.textContent = error instanceof api.ApiError ? error.readable : t('home.create.failed')
              createError.hidden = false
            }
          },
        },
        h('h2#create-title', null, t('home.create.heading')),
        h('div.field', null, h('label', { for: 'room-title' }, t('home.create.title')), title),
        courseField,
        h('label.check', { for: 'room-open' }, open, t('home.create.open')),
        h('label.check', { for: 'room-lobby' }, lobby, t('home.create.lobby')),
        createError,
        h('button.primary', { type: 'submit' }, t('home.create.submit')),
      )
    : h(
        'section.card.stack',
        { 'aria-labelledby': 'create-title' },
        h('h2#create-title', null, t('home.joinClass.heading')),
        h('p.muted', null, t('home.joinClass.text')),
      )

  const joinInput = h('input', { id: 'join-link', placeholder: t('home.join.placeholder'), required: true })
  const joinError = h('p.error', { role: 'alert', hidden: true })
  const joinForm = h(
    'form.card.stack',
    {
      'aria-labelledby': 'join-title',
      onsubmit: (event: Event) => {
        event.preventDefault()
        const found = ROOM_ID.exec(joinInput.value)
        if (!found) {
          joinError.textContent = t('home.join.bad')
          joinError.hidden = false
          return
        }
        navigate(`/rooms/${found[1].toLowerCase()}`)
      },
    },
    h('h2#join-title', null, t('home.join.heading')),
    h('div.field', null, h('label', { for: 'join-link' }, t('home.join.label')), joinInput),
    joinError,
    h('button', { type: 'submit' }, t('home.join.submit')),
  )

  void load()
  void loadCourses()
  return {
    title: t('home.title'),
    el: h(
      'div.shell',
      null,
      topbar(user, navigate),
      h(
        'main#main.page',
        null,
        h('h1', null, t('home.welcome', { name: user.name })),
        h('div.grid-2', null, createForm, joinForm),
        h('section.stack', { 'aria-labelledby': 'rooms-title' }, h('h2#rooms-title', null, t('home.myRooms')), list),
        h('section.stack', null, courseList),
      ),
    ),
  }
}
