// The workshop catalogue: upcoming workshops with a search and filters, each with its next
// session in the viewer's time zone (the organiser's zone noted), seats left and the
// waitlist's length, and my place in it.

import * as api from '../api'
import { fill, h } from '../dom'
import { t } from '../i18n'
import type { Navigate, Page } from '../main'
import { checkbox, field, textInput } from './formkit'
import { topbar } from './shell'
import { type Filters, type Workshop, nextSession, readable, when, workshops } from './workshopApi'

export function statusText(workshop: Workshop): string {
  const mine = workshop.my_registration
  if (!mine || mine.status === 'cancelled' || mine.status === 'expired') return ''
  if (mine.status === 'waitlisted') return t('workshops.mine.waitlisted', { position: mine.waitlist_position ?? 0 })
  return t(`workshops.mine.${mine.status}`)
}

function card(workshop: Workshop): HTMLElement {
  const next = nextSession(workshop)
  const id = `ws-${workshop.id}`
  const mine = statusText(workshop)
  return h(
    'li.panel.stack.workshop-card',
    { 'data-workshop-id': workshop.id, 'aria-labelledby': id },
    h('h2', { id }, h('a', { href: `/workshops/${workshop.id}`, 'data-link': '' }, workshop.title)),
    next ? h('p', null, t('workshops.nextSession', { when: when(next.starts_at, workshop.time_zone) })) : null,
    h(
      'p.muted',
      null,
      t('workshops.sessionCount', { count: workshop.occurrences.length }),
      ' · ',
      workshop.seats_left > 0 ? t('workshops.seatsLeft', { count: workshop.seats_left }) : t('workshops.full'),
      ' · ',
      t('workshops.waitlistLength', { count: workshop.waitlist_length }),
    ),
    mine ? h('p', null, h('span.badge', null, mine)) : null,
  )
}

export function workshopsPage(user: api.User, navigate: Navigate): Page {
  const canCreate = user.role === 'instructor' || user.role === 'admin'
  const filters: Filters = { upcoming: true }
  let cursor: string | null = null
  let asked = 0 // only the latest question's answer is drawn: an earlier one may arrive after it
  const list = h('ul.stack.plain', { 'aria-label': t('workshops.listLabel') })
  const status = h('p.muted', { role: 'status', 'aria-live': 'polite' })
  const more = h('button', { type: 'button', hidden: true, onclick: () => void load(false) }, t('workshops.more'))

  async function load(fresh: boolean): Promise<void> {
    if (fresh) cursor = null
    const mine = ++asked
    status.textContent = t('workshops.loading')
    try {
      const page = await workshops.list({ ...filters, cursor })
      if (mine !== asked) return
      const items = page.items.sort((a, b) => Date.parse(nextSession(a)?.starts_at ?? a.first_start) - Date.parse(nextSession(b)?.starts_at ?? b.first_start))
      if (fresh) fill(list, ...items.map(card))
      else list.append(...items.map(card))
      cursor = page.next
      more.hidden = !cursor
      status.textContent = list.childElementCount ? t('workshops.shown', { count: list.childElementCount }) : t('workshops.none')
    } catch (error) {
      if (mine !== asked) return
      status.textContent = ''
      fill(list, h('li.error', { role: 'alert' }, readable(error)))
    }
  }

  const search = textInput('', { type: 'search', maxlength: 100 })
  const available = checkbox(false)
  const upcoming = checkbox(true)
  const form = h(
    'form.row.wrap.filters',
    {
      role: 'search',
      'aria-label': t('workshops.filters'),
      onsubmit: (event: Event) => {
        event.preventDefault()
        filters.q = search.value.trim() || undefined
        filters.available = available.checked
        filters.upcoming = upcoming.checked
        void load(true)
      },
    },
    field(t('workshops.search'), search),
    field(t('workshops.onlyAvailable'), available, { inline: true }),
    field(t('workshops.onlyUpcoming'), upcoming, { inline: true }),
    h('button.primary', { type: 'submit' }, t('workshops.apply')),
  )
  void load(true)
  return {
    title: t('workshops.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack',
        null,
        h('h1', null, t('workshops.title')),
        h(
          'p.row.wrap',
          null,
          h('a.button', { href: '/calendar', 'data-link': '' }, t('calendar.title')),
          canCreate ? h('a.button.primary', { href: '/workshops/new', 'data-link': '' }, t('workshops.create')) : null,
        ),
        form,
        status,
        list,
        more,
      ),
    ),
  }
}
