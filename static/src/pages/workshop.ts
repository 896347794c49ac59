// One workshop: its description and sessions (in the viewer's time zone, the organiser's
// noted), my place (register, join the waitlist, confirm a promoted seat before its deadline
// - in a sold workshop: pay for it -, give up a seat before the cancellation deadline, my
// waitlist position), "Join room" while a session is live, and its calendar feed.

import * as api from '../api'
import { announce, confirmDialog, fill, h } from '../dom'
import { formatDateTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { buyBox } from './pay'
import { type Product, payments } from './payApi'
import { topbar } from './shell'
import { type Workshop, copyButton, live, readable, when, workshops } from './workshopApi'

export function workshopPage(id: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', null, t('workshops.loading'))
  const body = h('div.stack', { 'aria-busy': 'true' })
  const problem = h('div', { role: 'alert', 'data-testid': 'workshop-problem' })
  let timer = 0
  /** The product selling a seat here (undefined: not looked up yet). */
  let product: Product | null | undefined

  async function act(work: () => Promise<unknown>, done: string): Promise<void> {
    problem.replaceChildren()
    try {
      await work()
      announce(done)
      await load()
    } catch (error) {
      problem.replaceChildren(h('p.error', null, readable(error)))
      await load()
    }
  }

  function place(workshop: Workshop): HTMLElement {
    const mine = workshop.my_registration
    const active = mine && ['registered', 'offered', 'waitlisted'].includes(mine.status)
    const parts: (HTMLElement | null)[] = []
    const cutoff = new Date(Date.parse(workshop.first_start) - workshop.cancel_cutoff_minutes * 60_000)
    if (workshop.status === 'cancelled') parts.push(h('p', null, t('workshops.cancelled')))
    else if (!active) {
      const started = Date.parse(workshop.first_start) <= Date.now()
      if (started) parts.push(h('p', null, t('workshops.closed')))
      else if (product && workshop.seats_left > 0) parts.push(buyBox(product, t('pay.buySeat'), navigate))
      else
        parts.push(
          h(
            'button.primary',
            { type: 'button', onclick: () => void act(() => workshops.register(id), t('workshops.registeredDone')) },
            workshop.seats_left > 0 ? t('workshops.register') : t('workshops.joinWaitlist'),
          ),
        )
    } else if (mine) {
      if (mine.status === 'registered') parts.push(h('p', { 'data-testid': 'my-place' }, t('workshops.mine.registered')))
      if (mine.status === 'waitlisted')
        parts.push(h('p', { 'data-testid': 'my-place' }, t('workshops.mine.waitlisted', { position: mine.waitlist_position ?? 0 })))
      if (mine.status === 'offered' && mine.offered_until) {
        const until = formatDateTime(mine.offered_until)
        // A sold seat is paid for (its checkout uses the seat the offer holds); a free one is confirmed.
        parts.push(
          product
            ? h('p', { 'data-testid': 'my-place' }, t('workshops.offerPaid', { until }))
            : h('p', { 'data-testid': 'my-place' }, t('workshops.offer', { until })),
          product
            ? buyBox(product, t('workshops.payForSeat'), navigate)
            : h('button.primary', { type: 'button', onclick: () => void act(() => workshops.confirm(mine.id), t('workshops.confirmedDone')) }, t('workshops.confirm')),
        )
      }
      const seated = mine.status !== 'waitlisted'
      if (!seated || Date.now() < cutoff.getTime()) {
        parts.push(
          h(
            'button',
            {
              type: 'button',
              onclick: async () => {
                const sure = await confirmDialog(t('workshops.leaveTitle'), seated ? t('workshops.leaveSeat') : t('workshops.leaveWaitlist'), t('workshops.leave'), true)
                if (sure) await act(() => workshops.leave(mine.id), t('workshops.leftDone'))
              },
            },
            seated ? t('workshops.cancelSeat') : t('workshops.leaveWaitlistButton'),
          ),
        )
      }
      if (seated) parts.push(h('p.muted.small', null, Date.now() < cutoff.getTime() ? t('workshops.cancelBefore', { when: formatDateTime(cutoff) }) : t('workshops.cancelPassed')))
    }
    return h('section.panel.stack', { 'aria-labelledby': 'my-place-h' }, h('h2#my-place-h', null, t('workshops.myPlace')), ...parts)
  }

  function sessions(workshop: Workshop): HTMLElement {
    const manages = user.role === 'admin' || workshop.organiser_id === user.id
    const seated = workshop.my_registration?.status === 'registered'
    return h(
      'section.stack',
      { 'aria-labelledby': 'sessions-h' },
      h('h2#sessions-h', null, t('workshops.sessions')),
      h(
        'ol.stack.plain',
        null,
        workshop.occurrences.map((o) =>
          h(
            'li.row.wrap',
            { 'data-session': o.number },
            h('span.grow', null, t('workshops.sessionLine', { number: o.number, when: when(o.starts_at, workshop.time_zone) })),
            live(o) ? h('span.badge.info', null, t('workshops.live')) : o.closed_at ? h('span.badge.muted', null, t('workshops.ended')) : null,
            live(o) && (seated || manages)
              ? h(
                  'button.primary',
                  {
                    type: 'button',
                    onclick: async () => {
                      problem.replaceChildren()
                      try {
                        const entry = await workshops.join(id, o.number)
                        navigate(`/rooms/${entry.room_id}`)
                      } catch (error) {
                        problem.replaceChildren(h('p.error', null, readable(error)))
                      }
                    },
                  },
                  t('workshops.joinRoom'),
                )
              : null,
          ),
        ),
      ),
    )
  }

  function calendar(): HTMLElement {
    const box = h('div.stack')
    const section = h('section.stack', { 'aria-labelledby': 'feed-h' }, h('h2#feed-h', null, t('workshops.addToCalendar')), box)
    workshops.feed(id).then(
      (feed) => {
        const input = h('input', { type: 'text', readonly: true, value: feed.url, id: 'feed-url' })
        fill(
          box,
          h('label', { for: 'feed-url' }, t('workshops.feedUrl')),
          input,
          h('p.row.wrap', null, h('a.button', { href: feed.webcal }, t('workshops.subscribe')), copyButton(feed.url, t('workshops.copyLink'))),
        )
      },
      (error: unknown) => fill(box, h('p.error', null, readable(error))),
    )
    return section
  }

  async function load(): Promise<void> {
    try {
      const workshop = await workshops.get(id)
      if (product === undefined) product = await payments.forTarget('workshop', id).catch(() => null)
      heading.textContent = workshop.title
      const manages = user.role === 'admin' || workshop.organiser_id === user.id
      const length = workshop.occurrences.length
      fill(
        body,
        h('p.muted', null, t('workshops.zoneNote', { zone: workshop.time_zone, minutes: workshop.duration_minutes })),
        workshop.description ? h('p', { style: 'white-space: pre-wrap' }, workshop.description) : null,
        h(
          'p',
          { 'data-testid': 'seats' },
          workshop.seats_left > 0 ? t('workshops.seatsLeft', { count: workshop.seats_left }) : t('workshops.full'),
          ' · ',
          t('workshops.waitlistLength', { count: workshop.waitlist_length }),
        ),
        manages ? h('p.row.wrap', null, h('a.button', { href: `/workshops/${id}/manage`, 'data-link': '' }, t('workshops.manage'))) : null,
        place(workshop),
        sessions(workshop),
        length ? calendar() : null,
      )
    } catch (error) {
      fill(body, h('p.error', { role: 'alert' }, readable(error)))
    }
    body.setAttribute('aria-busy', 'false')
  }

  void load()
  // A session going live shows its "Join room" without a reload.
  timer = window.setInterval(() => {
    if (document.visibilityState === 'visible' && !body.contains(document.activeElement)) void load()
  }, 15_000)
  return {
    title: t('workshops.one'),
    destroy: () => window.clearInterval(timer),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h('main#main.page.stack', null, h('p', null, h('a', { href: '/workshops', 'data-link': '' }, t('workshops.back'))), heading, problem, body),
    ),
  }
}
