// My calendar: the workshop sessions I hold a seat or a waitlist place in (or organise), as
// a list and as a week view in my time zone, and the link to subscribe to my iCalendar feed.

import * as api from '../api'
import { fill, h } from '../dom'
import { formatDate, formatTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'
import { type MySession, copyButton, live, readable, workshops } from './workshopApi'

const DAY = 86_400_000

function startOfWeek(at: Date): Date {
  const day = new Date(at.getFullYear(), at.getMonth(), at.getDate())
  const shift = (day.getDay() + 6) % 7 // weeks start on Monday
  return new Date(day.getTime() - shift * DAY)
}

function statusLabel(item: MySession): string {
  return t(`calendar.status.${item.status}`)
}

function entry(item: MySession): HTMLElement {
  return h(
    'a',
    { href: `/workshops/${item.workshop_id}`, 'data-link': '' },
    t('calendar.entry', { title: item.title, number: item.session, time: formatTime(item.starts_at) }),
  )
}

export function calendarPage(user: api.User, navigate: Navigate): Page {
  let items: MySession[] = []
  let week = startOfWeek(new Date())
  const list = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('workshops.loading')))
  const weekBox = h('div.stack')
  const weekLabel = h('h2#week-h', { 'aria-live': 'polite' })
  const feedBox = h('div.stack')

  function renderList(): void {
    if (!items.length) {
      fill(list, h('p', null, t('calendar.none')), h('p', null, h('a', { href: '/workshops', 'data-link': '' }, t('workshops.title'))))
      return
    }
    fill(
      list,
      h(
        'ul.stack.plain',
        { 'aria-label': t('calendar.listLabel') },
        items.map((item) =>
          h(
            'li.row.wrap',
            { 'data-session': `${item.workshop_id}:${item.session}` },
            h('span.grow', null, entry(item), ' — ', formatDate(item.starts_at), ' ', formatTime(item.starts_at), '–', formatTime(item.ends_at)),
            h('span.badge', null, statusLabel(item)),
            live(item) ? h('span.badge.info', null, t('workshops.live')) : null,
          ),
        ),
      ),
    )
  }

  function renderWeek(): void {
    const end = new Date(week.getTime() + 7 * DAY)
    weekLabel.textContent = t('calendar.weekOf', { from: formatDate(week), to: formatDate(new Date(end.getTime() - DAY)) })
    const days = Array.from({ length: 7 }, (_, i) => new Date(week.getTime() + i * DAY))
    fill(
      weekBox,
      h(
        'ol.week.plain',
        { 'aria-labelledby': 'week-h' },
        days.map((day) => {
          const next = new Date(day.getTime() + DAY)
          const today = items.filter((i) => Date.parse(i.starts_at) >= day.getTime() && Date.parse(i.starts_at) < next.getTime())
          return h(
            'li.week-day',
            null,
            h('h3', null, day.toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'short' })),
            today.length ? h('ul.plain.stack', null, today.map((i) => h('li', null, entry(i)))) : h('p.muted.small', null, t('calendar.free')),
          )
        }),
      ),
    )
  }

  async function load(): Promise<void> {
    try {
      let cursor: string | null = null
      const found: MySession[] = []
      do {
        const page = await workshops.mine(cursor)
        found.push(...page.items)
        cursor = page.next
      } while (cursor && found.length < 1000)
      items = found
      renderList()
      renderWeek()
    } catch (error) {
      fill(list, h('p.error', { role: 'alert' }, readable(error)))
    }
    list.setAttribute('aria-busy', 'false')
    try {
      const feed = await workshops.myFeed()
      fill(
        feedBox,
        h('label', { for: 'my-feed-url' }, t('calendar.feedUrl')),
        h('input#my-feed-url', { type: 'text', readonly: true, value: feed.url }),
        h('p.row.wrap', null, h('a.button', { href: feed.webcal }, t('workshops.subscribe')), copyButton(feed.url, t('workshops.copyLink'))),
        h('p.muted.small', null, t('calendar.feedHint')),
      )
    } catch (error) {
      fill(feedBox, h('p.error', null, readable(error)))
    }
  }

  const move = (weeks: number) => () => {
    week = new Date(week.getTime() + weeks * 7 * DAY + 12 * 3_600_000)
    week = startOfWeek(week)
    renderWeek()
  }
  renderWeek()
  void load()
  return {
    title: t('calendar.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack',
        null,
        h('h1', null, t('calendar.title')),
        h('section.stack', { 'aria-labelledby': 'upcoming-h' }, h('h2#upcoming-h', null, t('calendar.upcoming')), list),
        h(
          'section.stack',
          { 'aria-labelledby': 'week-h' },
          weekLabel,
          h(
            'p.row.wrap',
            null,
            h('button', { type: 'button', onclick: move(-1) }, t('calendar.prevWeek')),
            h('button', { type: 'button', onclick: () => ((week = startOfWeek(new Date())), renderWeek()) }, t('calendar.thisWeek')),
            h('button', { type: 'button', onclick: move(1) }, t('calendar.nextWeek')),
          ),
          weekBox,
        ),
        h('section.stack', { 'aria-labelledby': 'feed-h' }, h('h2#feed-h', null, t('calendar.subscribe')), feedBox),
      ),
    ),
  }
}
