// One cohort: its dates and schedule (when each paced module opens), live sessions (the
// cohort's rooms), announcements, and for its staff the join code, members, invitations,
// new sessions and announcements, a link to the dashboard; its people are in cohortPeople.

import type * as api from '../api'
import { announce, fill, h } from '../dom'
import { formatDate, formatDateTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { type Announcement, type Cohort, type Session, cohorts, readable } from './cohortApi'
import { facilitatorsSection, membersSection, section } from './cohortPeople'
import { FormErrors, field, numberInput, numberOf, textArea, textInput } from './formkit'
import { topbar } from './shell'

function schedule(cohort: Cohort): HTMLElement {
  if (!cohort.schedule.length) return section('cohort-schedule', t('cohort.schedule'), h('p.muted', null, t('cohort.scheduleNone')))
  return section(
    'cohort-schedule',
    t('cohort.schedule'),
    h(
      'div.table-wrap',
      null,
      h(
        'table.table',
        { 'aria-labelledby': 'cohort-schedule' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('cohort.module')), h('th', { scope: 'col' }, t('cohort.opensOn')))),
        h(
          'tbody',
          null,
          cohort.schedule.map((e) =>
            h('tr', { 'data-testid': 'schedule-row' }, h('th', { scope: 'row' }, e.title), h('td', null, `${formatDateTime(e.opens_at)} · ${t('cohort.day', { day: e.offset_days })}`)),
          ),
        ),
      ),
    ),
  )
}

function sessionList(items: Session[]): HTMLElement {
  const sorted = [...items].sort((a, b) => a.starts_at.localeCompare(b.starts_at))
  if (!sorted.length) return h('p.muted', null, t('cohort.noSessions'))
  return h(
    'ul.plain.stack',
    null,
    sorted.map((s) =>
      h(
        'li',
        { 'data-testid': 'session' },
        h('a', { href: `/rooms/${s.room_id}`, 'data-link': '', 'aria-label': t('cohort.sessionJoin', { title: s.title }) }, s.title),
        ' · ',
        formatDateTime(s.starts_at),
      ),
    ),
  )
}

function announcementList(items: Announcement[]): HTMLElement {
  if (!items.length) return h('p.muted', null, t('cohort.noAnnouncements'))
  return h(
    'ul.plain.stack',
    null,
    items.map((a) => h('li.stack', { 'data-testid': 'announcement' }, h('h3', null, a.title), h('p.muted.small', null, formatDateTime(a.created_at)), a.body ? h('p', null, a.body) : null)),
  )
}

export function cohortPage(cohortId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', null, t('cohort.title'))
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('cohort.loading')))
  const sessions = h('div')
  const posts = h('div')

  async function refreshSessions(): Promise<void> {
    fill(sessions, sessionList((await cohorts.sessions(cohortId)).items))
  }

  async function refreshPosts(): Promise<void> {
    fill(posts, announcementList((await cohorts.announcements(cohortId)).items))
  }

  function codeBox(cohort: Cohort): HTMLElement {
    const code = h('p', null, cohort.join_code ? h('code.join-code', { 'data-testid': 'join-code' }, cohort.join_code) : t('cohort.noCode'))
    return section(
      'cohort-code',
      t('cohort.code'),
      code,
      h('p.small.muted', null, t('cohort.codeHelp')),
      h(
        'p',
        null,
        h(
          'button',
          {
            type: 'button',
            onclick: async () => {
              try {
                const fresh = await cohorts.rotate(cohortId)
                fill(code, h('code.join-code', { 'data-testid': 'join-code' }, fresh.join_code ?? ''))
                announce(t('cohort.rotated'))
              } catch (error) {
                announce(readable(error), 'assertive')
              }
            },
          },
          t('cohort.rotate'),
        ),
      ),
    )
  }

  function sessionForm(): HTMLElement {
    const errors = new FormErrors()
    const title = textInput('', { required: true, maxlength: 200 })
    const starts = h('input', { type: 'datetime-local', required: true })
    const length = numberInput(60, { inputmode: 'numeric' })
    const form = h(
      'form.stack',
      { novalidate: true },
      errors.summary,
      field(t('cohort.sessionTitle'), title, { key: 'title', errors }),
      field(t('cohort.sessionStart'), starts, { key: 'starts_at', errors }),
      field(t('cohort.sessionLength'), length, { key: 'duration_minutes', errors }),
      h('p', null, h('button', { type: 'submit' }, t('cohort.sessionAdd'))),
    )
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      errors.clear()
      try {
        const when = starts.value ? new Date(starts.value).toISOString() : ''
        const made = await cohorts.schedule(cohortId, title.value.trim(), when, numberOf(length) as number)
        form.reset()
        await refreshSessions()
        announce(t('cohort.sessionAdded', { title: made.title }))
      } catch (error) {
        errors.show(error)
      }
    })
    return form
  }

  function announceForm(): HTMLElement {
    const errors = new FormErrors()
    const title = textInput('', { required: true, maxlength: 200 })
    const text = textArea('', 4, { maxlength: 20000 })
    const form = h(
      'form.stack',
      { novalidate: true },
      errors.summary,
      field(t('cohort.announceTitle'), title, { key: 'title', errors }),
      field(t('cohort.announceBody'), text, { key: 'body', errors }),
      h('p', null, h('button.primary', { type: 'submit' }, t('cohort.announce'))),
    )
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      errors.clear()
      try {
        await cohorts.announce(cohortId, title.value.trim(), text.value)
        form.reset()
        await refreshPosts()
        announce(t('cohort.announced'))
      } catch (error) {
        errors.show(error)
      }
    })
    return form
  }

  async function load(): Promise<void> {
    try {
      const cohort = await cohorts.get(cohortId)
      heading.textContent = cohort.name
      document.title = t('app.titleSuffix', { title: cohort.name })
      await Promise.all([refreshSessions(), refreshPosts()])
      body.setAttribute('aria-busy', 'false')
      fill(
        body,
        h(
          'p.muted',
          null,
          t('cohorts.dates', { start: formatDate(`${cohort.start_date}T12:00:00Z`), end: formatDate(`${cohort.end_date}T12:00:00Z`), zone: cohort.time_zone }),
        ),
        cohort.my_membership ? h('p', { 'data-testid': 'my-membership' }, t('cohort.you')) : null,
        h(
          'nav.row.wrap',
          { 'aria-label': t('cohort.title') },
          h('a.button', { href: `/courses/${cohort.course_id}`, 'data-link': '' }, t('cohorts.back')),
          cohort.can_facilitate ? h('a.button', { href: `/courses/${cohort.course_id}/cohorts`, 'data-link': '' }, t('cohorts.backToCohorts')) : null,
          cohort.can_facilitate ? h('a.button', { href: `/cohorts/${cohortId}/dashboard`, 'data-link': '' }, t('cohort.dashboard')) : null,
        ),
        cohort.can_manage ? codeBox(cohort) : null,
        schedule(cohort),
        section('cohort-sessions', t('cohort.sessions'), sessions, cohort.can_facilitate ? sessionForm() : null),
        section('cohort-announcements', t('cohort.announcements'), cohort.can_facilitate ? announceForm() : null, posts),
        facilitatorsSection(cohort),
        cohort.can_facilitate ? membersSection(cohort) : null,
      )
    } catch (error) {
      body.setAttribute('aria-busy', 'false')
      fill(body, h('p.error', { role: 'alert' }, readable(error)))
    }
  }

  void load()
  return {
    title: t('cohort.title'),
    el: h('div', null, topbar(user, navigate), h('main#main.page.stack', null, heading, body)),
  }
}
