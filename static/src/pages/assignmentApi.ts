// The assignments REST client: an assignment, my submissions, handing in (with an
// Idempotency-Key so a retried click never makes two versions), and the grading calls.

import { request } from '../api'

export interface Assignment {
  id: string
  course_id: string
  title: string
  points: string
  published: boolean
  page_id: string | null
  instructions_html: string | null
  available_from: string | null
  due_at: string | null
  lock_at: string | null
  my_due_at: string | null
  my_lock_at: string | null
  submission_types: ('text' | 'file')[]
  allowed_extensions: string[]
  max_text_chars: number
  late_policy: { per_day: string; cap: string; floor: string }
  rubric_id: string | null
  anonymous: boolean
  names_revealed: boolean
  group_set_id: string | null
}

export interface SubmittedFile {
  id: number
  name: string
  size: number
  content_type: string
}

export interface Submission {
  id: string
  version: number
  text: string | null
  html: string | null
  files: SubmittedFile[]
  submitted_at: string
  late: boolean
}

export interface Level {
  id: string
  title: string
  points: string
  /** What earns this level (optional). */
  description?: string
}

/** A criterion: ``description`` is its name, ``long_description`` its explanation. */
export interface RubricCriterion {
  id: string
  description: string
  long_description?: string
  levels: Level[]
}

export interface Rubric {
  id: string
  title: string
  points: string
  criteria: RubricCriterion[]
  /** For graders: grades already given on assignments that use this rubric. */
  graded?: number | null
}

export interface Grade {
  rubric: Record<string, string>
  raw_score: string | null
  late_days: number
  late_deduction: string
  score: string | null
  posted: boolean
  /** A group member's own grade (given with whole_group false), not the group's. */
  individual?: boolean
}

export interface Comment {
  id: string
  submission_id: string
  start: number | null
  end: number | null
  body: string
}

export interface Mine {
  submissions: Submission[]
  grade: Grade | null
  comments: Comment[]
  rubric: Rubric | null
}

export interface Entry {
  key: string
  label: string
  user_id: string | null
  name: string | null
  state: 'graded' | 'submitted' | 'missing' | 'not_due'
  late: boolean
  submitted_at: string | null
  versions: number
  score: string | null
}

export interface Detail {
  entry: Entry
  submissions: Submission[]
  comments: Comment[]
  grade: Grade | null
  due_at: string | null
}

const enc = encodeURIComponent
const base = (id: string) => `/api/v1/assignments/${enc(id)}`

/** The settings an instructor changes (omitted ones stay). */
export interface AssignmentChanges {
  title?: string
  points?: string
  published?: boolean
  available_from?: string | null
  due_at?: string | null
  lock_at?: string | null
  submission_types?: ('text' | 'file')[]
  allowed_extensions?: string[]
  max_file_bytes?: number
  late_policy?: { per_day: string; cap: string; floor: string }
  rubric_id?: string | null
  anonymous?: boolean
}

export interface RubricFields {
  title: string
  criteria: RubricCriterion[]
}

export interface Enrollment {
  user_id: string
  name: string
  role: string
}

export const assignments = {
  create: (courseId: string, title: string) =>
    request<Assignment>('POST', `/api/v1/courses/${enc(courseId)}/assignments`, { json: { title, published: true } }),
  update: (id: string, fields: AssignmentChanges) => request<Assignment>('PATCH', base(id), { json: fields }),
  extend: (id: string, userId: string, dueAt: string | null, lockAt: string | null) =>
    request<unknown>('PUT', `${base(id)}/extensions`, { json: { user_id: userId, due_at: dueAt, lock_at: lockAt } }),
  extensions: (id: string) => request<{ user_id: string; due_at: string | null; lock_at: string | null }[]>('GET', `${base(id)}/extensions`),
  addRubric: (courseId: string, fields: RubricFields) => request<Rubric>('POST', `/api/v1/courses/${enc(courseId)}/rubrics`, { json: fields }),
  updateRubric: (id: string, fields: RubricFields) => request<Rubric>('PUT', `/api/v1/rubrics/${enc(id)}`, { json: fields }),
  roster: (courseId: string) => request<Enrollment[]>('GET', `/api/v1/courses/${enc(courseId)}/enrollments`),
  get: (id: string) => request<Assignment>('GET', base(id)),
  mine: (id: string) => request<Mine>('GET', `${base(id)}/submissions/mine`),
  submit: (id: string, body: { text?: string; file_ids: number[] }, key: string) =>
    request<Submission>('POST', `${base(id)}/submissions`, { json: body, headers: { 'Idempotency-Key': key } }),
  link: (submissionId: string, fileId: number) =>
    request<{ url: string; content_type: string }>('POST', `/api/v1/submissions/${enc(submissionId)}/files/${fileId}/link`),
  grading: (id: string) => request<{ anonymous: boolean; entries: Entry[] }>('GET', `${base(id)}/grading`),
  detail: (id: string, key: string) => request<Detail>('GET', `${base(id)}/grading/${enc(key)}`),
  grade: (id: string, key: string, body: { rubric: Record<string, string>; score?: string; whole_group?: boolean }) =>
    request<Detail>('PUT', `${base(id)}/grading/${enc(key)}`, { json: body }),
  comment: (submissionId: string, body: { body: string; start?: number; end?: number }) =>
    request<Comment>('POST', `/api/v1/submissions/${enc(submissionId)}/comments`, { json: body }),
  rubrics: (courseId: string) => request<{ items: Rubric[] }>('GET', `/api/v1/courses/${enc(courseId)}/rubrics?limit=200`),
  reveal: (id: string) => request<unknown>('POST', `${base(id)}/reveal`),
  post: (id: string) => request<{ posted: number }>('POST', `${base(id)}/post`),
}
