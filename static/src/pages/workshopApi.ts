// The workshops REST API as the pages use it: the catalogue, a workshop, registering and
// the waitlist, joining a live session, my sessions, calendar feeds and the organiser's
// registrations and attendance.

import { ApiError, request } from '../api'
import { formatDateTime, t } from '../i18n'

export interface Occurrence {
  number: number
  starts_at: string
  ends_at: string
  opened_at: string | null
  closed_at: string | null
}

export interface Registration {
  id: string
  workshop_id: string
  user_id: string
  status: 'registered' | 'offered' | 'waitlisted' | 'cancelled' | 'expired'
  arrival: number
  offered_until: string | null
  created_at: string
  waitlist_position: number | null
  name: string | null
}

export interface Workshop {
  id: string
  organiser_id: string | null
  title: string
  description: string
  time_zone: string
  start: string
  duration_minutes: number
  rrule: string | null
  capacity: number
  waitlist_capacity: number
  seats_left: number
  waitlist_length: number
  cancel_cutoff_minutes: number
  confirm_minutes: number
  status: 'scheduled' | 'cancelled'
  first_start: string
  occurrences: Occurrence[]
  my_registration: Registration | null
}

export interface WorkshopCreate {
  title: string
  description: string
  time_zone: string
  start: string
  duration_minutes: number | string | null
  rrule: string | null
  capacity: number | string | null
  waitlist_capacity: number | string | null
  cancel_cutoff_minutes: number | string | null
  confirm_minutes: number | string | null
}

export type WorkshopChanges = Partial<Omit<WorkshopCreate, 'time_zone' | 'start' | 'duration_minutes' | 'rrule'>>

export interface Page<T> {
  items: T[]
  next: string | null
}

export interface AttendanceRow {
  registration_id: string
  user_id: string
  name: string
  attended: boolean
  minutes: number
  seconds: number
}

export interface SessionAttendance extends Page<AttendanceRow> {
  session: number
  starts_at: string
  ends_at: string
  room_id: string | null
  final: boolean
}

export interface MySession {
  workshop_id: string
  title: string
  time_zone: string
  session: number
  starts_at: string
  ends_at: string
  opened_at: string | null
  closed_at: string | null
  status: 'registered' | 'offered' | 'waitlisted' | 'organiser'
}

export interface FeedLink {
  url: string
  webcal: string
}

export interface Filters {
  q?: string
  available?: boolean
  upcoming?: boolean
  cursor?: string | null
}

const enc = encodeURIComponent

export const workshops = {
  list: (filters: Filters) => {
    const query = new URLSearchParams({ limit: '50' })
    if (filters.q) query.set('q', filters.q)
    if (filters.available) query.set('available', 'true')
    if (filters.upcoming) query.set('upcoming', 'true')
    if (filters.cursor) query.set('cursor', filters.cursor)
    return request<Page<Workshop>>('GET', `/api/v1/workshops?${query}`)
  },
  get: (id: string) => request<Workshop>('GET', `/api/v1/workshops/${enc(id)}`),
  create: (body: WorkshopCreate) => request<Workshop>('POST', '/api/v1/workshops', { json: body }),
  update: (id: string, changes: WorkshopChanges) => request<Workshop>('PATCH', `/api/v1/workshops/${enc(id)}`, { json: changes }),
  cancel: (id: string) => request<Workshop>('POST', `/api/v1/workshops/${enc(id)}/cancel`),
  register: (id: string) => request<Registration>('POST', `/api/v1/workshops/${enc(id)}/registrations`),
  registrations: (id: string, cursor: string | null) =>
    request<Page<Registration>>('GET', `/api/v1/workshops/${enc(id)}/registrations?limit=100${cursor ? `&cursor=${enc(cursor)}` : ''}`),
  confirm: (registration: string) => request<Registration>('POST', `/api/v1/workshop-registrations/${enc(registration)}/confirm`),
  leave: (registration: string) => request<Registration>('POST', `/api/v1/workshop-registrations/${enc(registration)}/cancel`),
  join: (id: string, session: number) =>
    request<{ room_id: string; session: number; host: boolean }>('POST', `/api/v1/workshops/${enc(id)}/sessions/${session}/join`),
  attendance: (id: string, session: number) => request<SessionAttendance>('GET', `/api/v1/workshops/${enc(id)}/sessions/${session}/attendance?limit=200`),
  mine: (cursor: string | null) => request<Page<MySession>>('GET', `/api/v1/users/me/workshop-sessions?limit=200${cursor ? `&cursor=${enc(cursor)}` : ''}`),
  feed: (id: string) => request<FeedLink>('GET', `/api/v1/workshops/${enc(id)}/calendar-feed`),
  myFeed: () => request<FeedLink>('GET', '/api/v1/users/me/calendar-feed'),
}

export function readable(error: unknown): string {
  return error instanceof ApiError ? error.readable : error instanceof Error ? error.message : String(error)
}

/** A session's time in the viewer's zone, with the organiser's local time noted when the
 * zones differ. */
export function when(startsAt: string, zone: string): string {
  const mine = formatDateTime(startsAt)
  const viewer = Intl.DateTimeFormat().resolvedOptions().timeZone
  if (viewer === zone) return mine
  const theirs = new Date(startsAt).toLocaleString(undefined, { timeZone: zone, dateStyle: 'medium', timeStyle: 'short' })
  return t('workshops.whenZones', { mine, theirs, zone })
}

/** Whether a session's room is open now. */
export function live(session: { opened_at: string | null; closed_at: string | null }): boolean {
  return session.opened_at !== null && session.closed_at === null
}

/** The next session still to end (or the last one). */
export function nextSession(workshop: Workshop): Occurrence | undefined {
  const now = Date.now()
  return workshop.occurrences.find((o) => Date.parse(o.ends_at) > now) ?? workshop.occurrences.at(-1)
}

/** A button that copies ``text`` and says so. */
export function copyButton(text: string, label: string): HTMLButtonElement {
  const button = document.createElement('button')
  button.type = 'button'
  button.textContent = label
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text)
      button.textContent = t('workshops.copied')
    } catch {
      button.textContent = t('workshops.copyFailed')
    }
  })
  return button
}
