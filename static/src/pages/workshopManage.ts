// The organiser's page of a workshop: its registrations in arrival order (seated, offered,
// waitlisted, gone), each session's attendance (counted so far while live, as recorded once
// it closed), editing and cancelling the workshop.

import * as api from '../api'
import { announce, confirmDialog, fill, h } from '../dom'
import { formatDateTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { select } from './formkit'
import { topbar } from './shell'
import { type Registration, type Workshop, live, readable, when, workshops } from './workshopApi'

function registrationRow(r: Registration): HTMLElement {
  const state =
    r.status === 'waitlisted'
      ? t('workshops.mine.waitlisted', { position: r.waitlist_position ?? 0 })
      : r.status === 'offered' && r.offered_until
        ? t('manage.offeredUntil', { until: formatDateTime(r.offered_until) })
        : t(`manage.status.${r.status}`)
  return h('tr', { 'data-user-id': r.user_id }, h('td', null, r.arrival), h('th', { scope: 'row' }, r.name ?? r.user_id), h('td', null, state), h('td', null, formatDateTime(r.created_at)))
}

export function workshopManagePage(id: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', null, t('workshops.loading'))
  const problem = h('div', { role: 'alert' })
  const summary = h('div.stack')
  const registrations = h('div.stack', { 'aria-busy': 'true' })
  const attendance = h('div.stack', { 'aria-live': 'polite', 'data-testid': 'attendance' })
  let workshop: Workshop | null = null

  async function loadRegistrations(): Promise<void> {
    const rows: Registration[] = []
    let cursor: string | null = null
    try {
      do {
        const page = await workshops.registrations(id, cursor)
        rows.push(...page.items)
        cursor = page.next
      } while (cursor && rows.length < 2000)
      fill(
        registrations,
        rows.length
          ? h(
              'div.table-wrap',
              null,
              h(
                'table.table',
                { 'aria-labelledby': 'regs-h' },
                h('thead', null, h('tr', null, ...['manage.arrival', 'manage.name', 'manage.state', 'manage.registeredAt'].map((k) => h('th', { scope: 'col' }, t(k as 'manage.name'))))),
                h('tbody', null, rows.map(registrationRow)),
              ),
            )
          : h('p.muted', null, t('manage.noRegistrations')),
      )
    } catch (error) {
      fill(registrations, h('p.error', null, readable(error)))
    }
    registrations.setAttribute('aria-busy', 'false')
  }

  async function showAttendance(number: number): Promise<void> {
    try {
      const found = await workshops.attendance(id, number)
      fill(
        attendance,
        h('p', null, found.final ? t('manage.attendanceFinal') : t('manage.attendanceSoFar')),
        found.items.length
          ? h(
              'div.table-wrap',
              null,
              h(
                'table.table',
                { 'aria-label': t('manage.attendanceOf', { number }) },
                h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('manage.name')), h('th', { scope: 'col' }, t('manage.present')), h('th', { scope: 'col' }, t('manage.minutes')))),
                h(
                  'tbody',
                  null,
                  found.items.map((row) =>
                    h('tr', { 'data-user-id': row.user_id }, h('th', { scope: 'row' }, row.name), h('td', null, row.attended ? t('manage.attended') : t('manage.absent')), h('td', null, row.minutes)),
                  ),
                ),
              ),
            )
          : h('p.muted', null, t('manage.noSeats')),
      )
    } catch (error) {
      fill(attendance, h('p.error', null, readable(error)))
    }
  }

  async function load(): Promise<void> {
    try {
      workshop = await workshops.get(id)
    } catch (error) {
      fill(summary, h('p.error', null, readable(error)))
      return
    }
    const current = workshop
    heading.textContent = t('manage.heading', { title: current.title })
    const picker = select(
      current.occurrences.map((o) => [String(o.number), t('workshops.sessionLine', { number: o.number, when: when(o.starts_at, current.time_zone) }) + (live(o) ? ` (${t('workshops.live')})` : '')]),
      String(shownSession(current.occurrences)),
      { id: 'session-pick' },
    )
    picker.addEventListener('change', () => void showAttendance(Number(picker.value)))
    fill(
      summary,
      h('p', null, current.status === 'cancelled' ? t('workshops.cancelled') : t('manage.counts', { taken: current.capacity - current.seats_left, capacity: current.capacity, waiting: current.waitlist_length })),
      h(
        'p.row.wrap',
        null,
        h('a.button', { href: `/workshops/${id}`, 'data-link': '' }, t('manage.view')),
        current.status === 'scheduled' ? h('a.button', { href: `/workshops/${id}/edit`, 'data-link': '' }, t('manage.edit')) : null,
        current.status === 'scheduled'
          ? h(
              'button.danger',
              {
                type: 'button',
                onclick: async () => {
                  if (!(await confirmDialog(t('manage.cancelTitle'), t('manage.cancelBody'), t('manage.cancelWorkshop'), true))) return
                  try {
                    await workshops.cancel(id)
                    announce(t('manage.cancelledDone'))
                    await load()
                  } catch (error) {
                    problem.replaceChildren(h('p.error', null, readable(error)))
                  }
                },
              },
              t('manage.cancelWorkshop'),
            )
          : null,
      ),
      h(
        'section.stack',
        { 'aria-labelledby': 'att-h' },
        h('h2#att-h', null, t('manage.attendance')),
        h('div.field', null, h('label', { for: 'session-pick' }, t('manage.session')), picker),
        h('button', { type: 'button', onclick: () => void showAttendance(Number(picker.value)) }, t('manage.refresh')),
        attendance,
      ),
    )
    void showAttendance(Number(picker.value))
  }

  void load()
  void loadRegistrations()
  return {
    title: t('manage.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack',
        null,
        h('p', null, h('a', { href: '/workshops', 'data-link': '' }, t('workshops.back'))),
        heading,
        problem,
        summary,
        h('section.stack', { 'aria-labelledby': 'regs-h' }, h('h2#regs-h', null, t('manage.registrations')), registrations),
      ),
    ),
  }
}

/** The session whose attendance the page opens on: the one live now, else the latest that
 * has started (just ended: what its organiser comes to read), else the next one. */
function shownSession(sessions: Workshop['occurrences']): number {
  const now = Date.now()
  const started = sessions.filter((o) => Date.parse(o.starts_at) <= now)
  const chosen = sessions.find(live) ?? started[started.length - 1] ?? sessions.find((o) => o.closed_at === null) ?? sessions[0]
  return chosen?.number ?? 1
}
