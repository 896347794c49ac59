// The cohorts REST client: a course's cohorts, one cohort with its schedule and people,
// joining by code or invitation, moving and removing learners, facilitators, sessions,
// announcements, and the dashboard.

import { ApiError, request } from '../api'

const enc = encodeURIComponent

/** What went wrong, for people (a problem's detail, else the error's message). */
export function readable(error: unknown): string {
  return error instanceof ApiError ? error.readable : error instanceof Error ? error.message : String(error)
}

export interface ScheduleEntry {
  module_id: string
  title: string
  offset_days: number
  opens_on: string
  opens_at: string
}

export interface Membership {
  cohort_id: string
  course_id: string
  user_id: string
  name: string
  email: string | null
  via: string
  joined_at: string
}

export interface Transfer {
  id: number
  course_id: string
  user_id: string
  from_cohort_id: string
  to_cohort_id: string
  by_id: string | null
  reason: string
  at: string
}

export interface RosterEntry {
  user_id: string
  name: string
  email: string
  role: string
}

export interface Cohort {
  id: string
  course_id: string
  name: string
  time_zone: string
  start_date: string
  end_date: string
  capacity: number | null
  members: number
  schedule: ScheduleEntry[]
  facilitators: { user_id: string; name: string }[]
  join_code: string | null
  can_manage: boolean
  can_facilitate: boolean
  my_membership: Membership | null
}

export interface CohortCreate {
  name: string
  time_zone: string
  start_date: string
  end_date: string
  capacity?: number | null
  pacing: { module_id: string; offset_days: number }[]
}

export interface Session {
  id: number
  cohort_id: string
  room_id: string
  title: string
  starts_at: string
  ends_at: string
}

export interface Announcement {
  id: number
  cohort_id: string
  author_id: string | null
  title: string
  body: string
  created_at: string
}

export interface LearnerRow {
  user_id: string
  name: string
  email: string
  percent: number
  expected_percent: number
  attended: number
  sessions_held: number
  last_active: string
  behind: boolean
  reasons: string[]
}

export interface Dashboard {
  cohort_id: string
  inactive_days: number
  learners: LearnerRow[]
  behind: number
}

export interface ImportPreview {
  rows: number
  adds: { row: number; user_id: string; email: string; name: string }[]
  unchanged: number
  errors: { row: number; message: string }[]
  version: string
}

const CSV = { 'content-type': 'text/csv' }

export type SortKey = 'name' | 'progress' | 'expected' | 'attendance' | 'last_active' | 'behind'

interface Paged<T> {
  items: T[]
  next: string | null
}

const one = (cohortId: string): string => `/api/v1/cohorts/${enc(cohortId)}`

export const cohorts = {
  list: (courseId: string) => request<Paged<Cohort>>('GET', `/api/v1/courses/${enc(courseId)}/cohorts?limit=200`),
  create: (courseId: string, body: CohortCreate) => request<Cohort>('POST', `/api/v1/courses/${enc(courseId)}/cohorts`, { json: body }),
  get: (cohortId: string) => request<Cohort>('GET', one(cohortId)),
  rotate: (cohortId: string) => request<Cohort>('POST', `${one(cohortId)}/join-code`),
  join: (code: string) => request<Membership>('POST', '/api/v1/cohorts/join', { json: { code } }),
  accept: (token: string) => request<Membership>('POST', '/api/v1/cohort-invitations/accept', { json: { token } }),
  invite: (cohortId: string, email: string) => request<unknown>('POST', `${one(cohortId)}/invitations`, { json: { email } }),
  preview: (cohortId: string, text: string) => request<ImportPreview>('POST', `${one(cohortId)}/import/preview`, { text, headers: CSV }),
  apply: (cohortId: string, text: string, version: string) =>
    request<{ added: number }>('POST', `${one(cohortId)}/import/apply?version=${enc(version)}`, { text, headers: CSV }),
  members: (cohortId: string) => request<Paged<Membership>>('GET', `${one(cohortId)}/members?limit=200`),
  removeMember: (cohortId: string, userId: string, reason: string) =>
    request<void>('DELETE', `${one(cohortId)}/members/${enc(userId)}?reason=${enc(reason)}`),
  transfers: (cohortId: string) => request<Paged<Transfer>>('GET', `${one(cohortId)}/transfers?limit=200`),
  transfer: (cohortId: string, userId: string, toCohortId: string, reason: string) =>
    request<Transfer>('POST', `${one(cohortId)}/transfers`, { json: { user_id: userId, to_cohort_id: toCohortId, reason } }),
  addFacilitator: (cohortId: string, userId: string) => request<void>('PUT', `${one(cohortId)}/facilitators/${enc(userId)}`),
  removeFacilitator: (cohortId: string, userId: string) => request<void>('DELETE', `${one(cohortId)}/facilitators/${enc(userId)}`),
  roster: (courseId: string) => request<RosterEntry[]>('GET', `/api/v1/courses/${enc(courseId)}/enrollments`),
  sessions: (cohortId: string) => request<Paged<Session>>('GET', `${one(cohortId)}/sessions?limit=200`),
  schedule: (cohortId: string, title: string, startsAt: string, minutes: number) =>
    request<Session>('POST', `${one(cohortId)}/sessions`, { json: { title, starts_at: startsAt, duration_minutes: minutes } }),
  announcements: (cohortId: string) => request<Paged<Announcement>>('GET', `${one(cohortId)}/announcements?limit=50`),
  announce: (cohortId: string, title: string, body: string) =>
    request<Announcement>('POST', `${one(cohortId)}/announcements`, { json: { title, body } }),
  dashboard: (cohortId: string, sort: SortKey, order: 'asc' | 'desc', inactiveDays: number) =>
    request<Dashboard>('GET', `${one(cohortId)}/dashboard?sort=${sort}&order=${order}&inactive_days=${inactiveDays}`),
  dashboardCsv: async (cohortId: string, sort: SortKey, order: 'asc' | 'desc', inactiveDays: number): Promise<string> => {
    const response = await request<Response>('GET', `${one(cohortId)}/dashboard.csv?sort=${sort}&order=${order}&inactive_days=${inactiveDays}`, {
      raw: true,
      headers: { accept: 'text/csv' },
    })
    return response.text()
  },
}
