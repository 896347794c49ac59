// The gradebook REST client: the grid, a cell's grade and history, posting, a learner's
// own grades, and the CSV export and previewed import. Scores and percentages are decimal
// strings ("8.50"), shown as the server computed them.

import { ApiError, request } from '../api'

const enc = encodeURIComponent

/** What went wrong, for people (a problem's detail, else the error's message). */
export function readable(error: unknown): string {
  return error instanceof ApiError ? error.readable : error instanceof Error ? error.message : String(error)
}

export interface Group {
  id: string
  name: string
  position?: number
  weight: string
  drop_lowest: number
  drop_highest: number
  extra_credit: boolean
}

export interface Column {
  id: string
  group_id: string | null
  source: string
  title: string
  points_possible: string
  due_at: string | null
  post_policy: 'automatic' | 'manual'
  extra_credit: boolean
}

export interface Cell {
  score: string | null
  excused: boolean
  missing: boolean
  late: boolean
  late_deduction: string | null
  posted: boolean
  state: Record<string, string | boolean | null>
}

export interface GroupGrade {
  group_id: string
  score: string
  possible: string
  percent: string | null
  dropped: string[]
}

export interface Grade {
  score: string
  possible: string
  percent: string | null
  letter: string | null
  groups: GroupGrade[]
}

export interface Grades {
  current: Grade
  final: Grade
  override: string | null
  percent: string | null
  letter: string | null
}

export interface SchemeEntry {
  name: string
  min: string
}

export interface Structure {
  settings: { weighted: boolean; missing_policy: string; scheme?: SchemeEntry[] }
  groups: Group[]
  columns: Column[]
}

export interface Row {
  student: { id: string; name: string; email: string }
  cells: Record<string, Cell>
  grades: Grades
}

export interface Grid {
  structure: Structure
  rows: Row[]
  next: string | null
}

export interface Change {
  id: number
  column_id: string | null
  student_id: string | null
  kind: 'score' | 'flags' | 'override' | 'posting'
  old: Record<string, unknown>
  new: Record<string, unknown>
  actor_id: string | null
  reason: string
  at: string
}

export interface MyGrades {
  groups: Group[]
  columns: { column: Column; cell: Cell | null; hidden: boolean }[]
  grades: Grades
  weighted: boolean
}

export interface ImportPreview {
  rows: number
  changes: { row: number; student: string; column: string; old: string; new: string }[]
  errors: { row: number; message: string }[]
  version: string
}

/** The fields of a group to add or change (decimals as strings). */
export interface GroupFields {
  name?: string
  weight?: string
  drop_lowest?: number
  drop_highest?: number
  extra_credit?: boolean
  position?: number
}

/** The grading settings to change; ``default_scheme`` restores the default letters. */
export interface SettingsFields {
  weighted?: boolean
  missing_policy?: 'zero' | 'ungraded'
  scheme?: SchemeEntry[]
  default_scheme?: boolean
}

export interface GradeEdit {
  score?: string | null
  excused?: boolean
  missing?: boolean
  late?: boolean
  expect?: Record<string, string | boolean | null>
}

const base = (courseId: string): string => `/api/v1/courses/${enc(courseId)}/gradebook`
const CSV = { 'content-type': 'text/csv' }

export const gradebook = {
  structure: (courseId: string) => request<Structure>('GET', base(courseId)),
  settings: (courseId: string, fields: SettingsFields) => request<Structure>('PATCH', `${base(courseId)}/settings`, { json: fields }),
  addGroup: (courseId: string, fields: GroupFields) => request<Group>('POST', `${base(courseId)}/groups`, { json: fields }),
  changeGroup: (courseId: string, groupId: string, fields: GroupFields) =>
    request<Group>('PATCH', `${base(courseId)}/groups/${enc(groupId)}`, { json: fields }),
  removeGroup: (courseId: string, groupId: string) => request<void>('DELETE', `${base(courseId)}/groups/${enc(groupId)}`),
  moveColumn: (courseId: string, columnId: string, groupId: string) =>
    request<Column>('PATCH', `${base(courseId)}/columns/${enc(columnId)}`, { json: { group_id: groupId } }),
  grid: (courseId: string, cursor: string | null) =>
    request<Grid>('GET', `${base(courseId)}/grid?limit=500${cursor ? `&cursor=${enc(cursor)}` : ''}`),
  grade: (courseId: string, columnId: string, userId: string, edit: GradeEdit) =>
    request<Cell>('PUT', `${base(courseId)}/columns/${enc(columnId)}/grades/${enc(userId)}`, { json: edit }),
  post: (courseId: string, columnId: string) =>
    request<string[]>('POST', `${base(courseId)}/columns/${enc(columnId)}/post`, { json: {} }),
  hide: (courseId: string, columnId: string) => request<string[]>('POST', `${base(courseId)}/columns/${enc(columnId)}/hide`),
  history: (courseId: string, columnId: string, userId: string) =>
    request<{ items: Change[]; next: string | null }>(
      'GET',
      `${base(courseId)}/history?column_id=${enc(columnId)}&student_id=${enc(userId)}&limit=50`,
    ),
  override: (courseId: string, userId: string, percent: string | null, reason: string) =>
    request<void>('PUT', `${base(courseId)}/overrides/${enc(userId)}`, { json: { percent, reason } }),
  mine: (courseId: string) => request<MyGrades>('GET', `${base(courseId)}/mine`),
  exportCsv: async (courseId: string): Promise<string> => {
    const response = await request<Response>('GET', `${base(courseId)}/export.csv`, { raw: true, headers: { accept: 'text/csv' } })
    return response.text()
  },
  preview: (courseId: string, text: string) =>
    request<ImportPreview>('POST', `${base(courseId)}/import/preview`, { text, headers: CSV }),
  apply: (courseId: string, text: string, version: string) =>
    request<{ applied: number }>('POST', `${base(courseId)}/import/apply?version=${enc(version)}`, { text, headers: CSV }),
}
