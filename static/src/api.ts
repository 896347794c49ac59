// The REST client: bearer tokens kept in localStorage (in memory only, for this tab, when the
// browser blocks storage), refreshed once on a 401, and RFC 9457 problem documents turned
// into ApiError with a readable message.

import { readPref, removePref, writePref } from './prefs'

export interface User {
  id: string
  email: string
  name: string
  role: 'student' | 'instructor' | 'admin' | 'finance'
}

export type RoomRole = 'host' | 'co-host' | 'presenter' | 'participant' | 'observer'

export interface RoomSettings {
  open?: boolean
  lobby?: boolean
  locked?: boolean
  chat_enabled?: boolean
  slow_mode_seconds?: number
  whiteboard_locked?: boolean
  notes_locked?: boolean
  max_participants?: number
  [key: string]: unknown
}

export interface Room {
  id: string
  title: string
  created_by: string
  parent_id: string | null
  course_id?: string | null
  status: 'open' | 'ended' | string
  settings: RoomSettings
  created_at: string
  ended_at: string | null
  my_role: RoomRole | null
}

export interface JoinInfo {
  token: string
  expires_in: number
  room_id: string
  role: RoomRole
  grants: string[]
  lobby: boolean
  ws_url: string
  documents: { name: string; url: string; access: 'read' | 'write' }[]
}

export interface Attendance {
  user_id: string
  name: string
  role: string
  joined_at: string
  left_at: string | null
  seconds: number
}

interface Tokens {
  access_token: string
  refresh_token: string
  expires_in: number
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly fields: { field: string; message: string }[] = [],
    /** Seconds the server asked us to wait before trying again (503/429 Retry-After). */
    readonly retryAfter: number | null = null,
    /** The whole problem document, for the extension members some answers carry. */
    readonly body: Record<string, unknown> = {},
  ) {
    super(detail || title || `HTTP ${status}`)
  }

  /** A message for people: the detail, or the first field error. */
  get readable(): string {
    if (this.fields.length) {
      return this.fields.map((f) => `${f.field.replace(/^body\./, '')}: ${f.message}`).join('; ')
    }
    return this.detail || this.title || `Request failed (${this.status})`
  }
}

const STORE = 'liveclass.session'

function load(): Tokens | null {
  const raw = readPref(STORE)
  try {
    return raw ? (JSON.parse(raw) as Tokens) : null
  } catch {
    return null
  }
}

let tokens: Tokens | null = load()
let refreshing: Promise<boolean> | null = null
let cachedMe: User | null = null
const listeners = new Set<() => void>()

function save(next: Tokens | null): void {
  tokens = next
  cachedMe = null
  if (next) writePref(STORE, JSON.stringify(next))
  else removePref(STORE)
  for (const listener of listeners) listener()
}

// Another tab signing in or out changes what this tab may do.
window.addEventListener('storage', (event) => {
  if (event.key === STORE) {
    tokens = load()
    cachedMe = null
    for (const listener of listeners) listener()
  }
})

export function onSessionChange(listener: () => void): void {
  listeners.add(listener)
}

export function signedIn(): boolean {
  return tokens !== null
}

async function problem(response: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {}
  try {
    body = (await response.json()) as Record<string, unknown>
  } catch {
    // not JSON: keep the status alone
  }
  return new ApiError(
    response.status,
    String(body.title ?? response.statusText),
    String(body.detail ?? ''),
    Array.isArray(body.errors) ? (body.errors as { field: string; message: string }[]) : [],
    retryAfter(response.headers.get('retry-after')),
    body,
  )
}

function retryAfter(header: string | null): number | null {
  const seconds = header === null ? NaN : Number(header)
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null
}

async function refresh(): Promise<boolean> {
  if (!tokens) return false
  refreshing ??= (async () => {
    try {
      const response = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: tokens?.refresh_token }),
      })
      if (!response.ok) {
        save(null)
        return false
      }
      save((await response.json()) as Tokens)
      return true
    } catch {
      return false
    } finally {
      refreshing = null
    }
  })()
  return refreshing
}

/** The bearer header for a request made outside ``request`` (tus uploads); with ``stale``
 * (the server answered 401), the tokens are refreshed first. */
export async function authorization(stale = false): Promise<string | null> {
  if (stale && !(await refresh())) return null
  return tokens ? `Bearer ${tokens.access_token}` : null
}

export interface RequestOptions {
  json?: unknown
  /** A text body (give its content-type in ``headers``), e.g. a CSV file. */
  text?: string
  form?: Record<string, string>
  auth?: boolean
  raw?: boolean
  headers?: Record<string, string>
}

/** One REST call; throws ApiError on 4xx/5xx. */
export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const send = async (): Promise<Response> => {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
    let body: BodyInit | undefined
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(options.json)
    } else if (options.text !== undefined) {
      body = options.text
    } else if (options.form) {
      body = new URLSearchParams(options.form)
    }
    if (options.auth !== false && tokens) headers.authorization = `Bearer ${tokens.access_token}`
    return fetch(path, { method, headers, body })
  }
  let response = await send()
  if (response.status === 401 && options.auth !== false && tokens && (await refresh())) {
    response = await send()
  }
  if (!response.ok) throw await problem(response)
  if (options.raw) return response as unknown as T
  if (response.status === 204) return undefined as T
  return (await response.json()) as T
}

export async function register(email: string, password: string, name: string): Promise<void> {
  await request('POST', '/api/v1/auth/register', { json: { email, password, name }, auth: false })
}

export async function login(email: string, password: string): Promise<void> {
  const result = await request<Tokens>('POST', '/api/v1/auth/token', {
    form: { username: email, password, grant_type: 'password' },
    auth: false,
  })
  save(result)
}

export async function logout(): Promise<void> {
  const current = tokens
  if (current) {
    try {
      await request('POST', '/api/v1/auth/logout', { json: { refresh_token: current.refresh_token } })
    } catch {
      // signing out locally is what matters
    }
  }
  save(null)
}

export async function me(): Promise<User | null> {
  if (!tokens) return null
  if (cachedMe) return cachedMe
  try {
    cachedMe = await request<User>('GET', '/api/v1/users/me')
    return cachedMe
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      save(null)
      return null
    }
    throw error
  }
}

export interface Course {
  id: string
  code: string
  title: string
  description: string
  status: string
  my_role: 'instructor' | 'ta' | 'student' | 'observer' | null
}

export const courses = {
  mine: () => request<{ items: Course[]; total: number }>('GET', '/api/v1/courses?scope=mine&limit=200'),
}

/** A course video's transcode, as a publisher follows it. */
export interface CourseVideoState {
  id: string
  course_id: string
  title: string
  status: 'queued' | 'processing' | 'ready' | 'failed' | string
  progress: number
  error: string | null
}

export const rooms = {
  list: (status?: string) =>
    request<{ items: Room[]; total: number }>('GET', `/api/v1/rooms?limit=100${status ? `&status=${status}` : ''}`),
  get: (id: string) => request<Room>('GET', `/api/v1/rooms/${encodeURIComponent(id)}`),
  create: (title: string, settings: RoomSettings & { course_id?: string }) =>
    request<Room>('POST', '/api/v1/rooms', { json: { title, ...settings } }),
  update: (id: string, changes: RoomSettings & { title?: string }) =>
    request<Room>('PATCH', `/api/v1/rooms/${encodeURIComponent(id)}`, { json: changes }),
  end: (id: string) => request<void>('POST', `/api/v1/rooms/${encodeURIComponent(id)}/end`),
  join: (id: string) => request<JoinInfo>('POST', `/api/v1/rooms/${encodeURIComponent(id)}/join`),
  publishRecording: (id: string, recordingId: string) =>
    request<CourseVideoState>('POST', `/api/v1/rooms/${encodeURIComponent(id)}/recordings/${encodeURIComponent(recordingId)}/video`),
  video: (videoId: string) => request<CourseVideoState>('GET', `/api/v1/videos/${encodeURIComponent(videoId)}`),
  invite: (id: string, email: string, role: RoomRole) =>
    request<unknown>('POST', `/api/v1/rooms/${encodeURIComponent(id)}/members`, { json: { email, role } }),
  attendance: (id: string) => request<Attendance[]>('GET', `/api/v1/rooms/${encodeURIComponent(id)}/attendance`),
  chatCsv: async (id: string): Promise<Blob> => {
    const response = await request<Response>('GET', `/api/v1/rooms/${encodeURIComponent(id)}/chat?format=csv`, {
      raw: true,
    })
    return response.blob()
  },
  attendanceCsv: async (id: string): Promise<Blob> => {
    const response = await request<Response>('GET', `/api/v1/rooms/${encodeURIComponent(id)}/attendance?format=csv`, {
      raw: true,
    })
    return response.blob()
  },
}

export type Delivery = 'immediately' | 'daily_digest' | 'off'

export interface Notification {
  id: number
  category: string
  title: string
  body: string
  link: string | null
  created_at: string
  read_at: string | null
}

export interface NotificationPage {
  items: Notification[]
  next: string | null
  unread: number
}

export interface NotificationPreferences {
  categories: Record<string, Delivery>
  available: { name: string; label: string; default: Delivery }[]
}

export const notifications = {
  list: (options: { unread?: boolean; cursor?: string | null; limit?: number } = {}) => {
    const query = new URLSearchParams({ limit: String(options.limit ?? 20) })
    if (options.unread) query.set('unread', 'true')
    if (options.cursor) query.set('cursor', options.cursor)
    return request<NotificationPage>('GET', `/api/v1/notifications?${query}`)
  },
  unread: () => request<{ unread: number }>('GET', '/api/v1/notifications/unread-count'),
  markRead: (id: number) => request<Notification>('POST', `/api/v1/notifications/${id}/read`),
  markAllRead: () => request<{ marked: number }>('POST', '/api/v1/notifications/read-all'),
  preferences: () => request<NotificationPreferences>('GET', '/api/v1/notifications/preferences'),
  setPreferences: (categories: Record<string, Delivery>) =>
    request<NotificationPreferences>('PUT', '/api/v1/notifications/preferences', { json: { categories } }),
  channelToken: () => request<{ token: string; url: string; expires_in: number }>('POST', '/api/v1/notifications/channel-token'),
}

export const accountMail = {
  verify: (token: string) =>
    request<{ email: string; email_verified_at: string }>('POST', '/api/v1/auth/verify-email', { json: { token }, auth: false }),
  requestReset: (email: string) =>
    request<{ detail: string }>('POST', '/api/v1/auth/password-reset', { json: { email }, auth: false }),
  reset: (token: string, newPassword: string) =>
    request<void>('POST', '/api/v1/auth/password-reset/confirm', { json: { token, new_password: newPassword }, auth: false }),
}

// Course content: modules, items, pages, progress (lms/content).

export type ItemKind = 'page' | 'file' | 'video' | 'link' | 'live_session' | 'quiz' | 'assignment'
export type Requirement = 'view' | 'mark_done' | 'watch' | 'submit'

export interface ItemProgress {
  viewed: boolean
  watched_share: number
  position: number
  submitted: boolean
  completed: boolean
}

export interface Item {
  id: string
  module_id: string
  kind: ItemKind
  title: string
  position: number
  published: boolean
  target_id: string | null
  url: string | null
  file_id: number | null
  starts_at: string | null
  requirement: Requirement
  min_watch: number
  progress: ItemProgress | null
}

export interface Module {
  id: string
  title: string
  position: number
  published: boolean
  unlock_at: string | null
  prerequisites: string[]
  locked: boolean
  lock_reason: string | null
  completed: number
  required: number
  items: Item[]
}

export interface CourseContent {
  course_id: string
  can_edit: boolean
  modules: Module[]
  percent: number
}

export interface NextItem {
  item: Item
  module_id: string
  module_title: string
}

export interface CourseHome {
  course_id: string
  title: string
  percent: number
  next: NextItem | null
  upcoming: NextItem[]
}

export interface ContentPage {
  id: string
  course_id: string
  title: string
  document: string
  published_at: string | null
  html: string | null
}

export interface PageEditorAccess {
  document: string
  token: string
  url: string
  writable: boolean
  expires_in: number
}

export interface LearnerProgress {
  user_id: string
  name: string
  percent: number
  completed: number
  items: Record<string, ItemProgress>
}

export interface ProgressTable {
  items: Item[]
  learners: LearnerProgress[]
  next: string | null
}

export interface ModuleChanges {
  title?: string
  published?: boolean
  unlock_at?: string | null
  prerequisites?: string[]
}

export interface ItemFields {
  kind?: ItemKind
  title?: string
  published?: boolean
  target_id?: string | null
  url?: string | null
  file_id?: number | null
  starts_at?: string | null
  requirement?: Requirement
}

/** A course file or video as the editor's pickers list them. */
export interface CourseFileSummary {
  id: number
  name: string
  content_type: string
}

export interface CourseVideoSummary {
  id: string
  title: string
  status: 'queued' | 'processing' | 'ready' | 'failed'
}

const enc = encodeURIComponent

export const content = {
  course: (id: string) => request<Course>('GET', `/api/v1/courses/${enc(id)}`),
  get: (courseId: string) => request<CourseContent>('GET', `/api/v1/courses/${enc(courseId)}/content`),
  home: (courseId: string) => request<CourseHome>('GET', `/api/v1/courses/${enc(courseId)}/home`),
  addModule: (courseId: string, fields: ModuleChanges) =>
    request<Module>('POST', `/api/v1/courses/${enc(courseId)}/modules`, { json: fields }),
  updateModule: (id: string, fields: ModuleChanges) => request<Module>('PATCH', `/api/v1/modules/${enc(id)}`, { json: fields }),
  deleteModule: (id: string) => request<void>('DELETE', `/api/v1/modules/${enc(id)}`),
  orderModules: (courseId: string, ids: string[]) =>
    request<CourseContent>('PUT', `/api/v1/courses/${enc(courseId)}/modules/order`, { json: { ids } }),
  addItem: (moduleId: string, fields: ItemFields) => request<Item>('POST', `/api/v1/modules/${enc(moduleId)}/items`, { json: fields }),
  updateItem: (id: string, fields: ItemFields) => request<Item>('PATCH', `/api/v1/items/${enc(id)}`, { json: fields }),
  deleteItem: (id: string) => request<void>('DELETE', `/api/v1/items/${enc(id)}`),
  moveItem: (id: string, moduleId: string, position: number) =>
    request<CourseContent>('POST', `/api/v1/items/${enc(id)}/move`, { json: { module_id: moduleId, position } }),
  files: async (courseId: string) =>
    (await request<{ items: CourseFileSummary[] }>('GET', `/api/v1/courses/${enc(courseId)}/files?limit=200`)).items,
  videos: (courseId: string) => request<CourseVideoSummary[]>('GET', `/api/v1/courses/${enc(courseId)}/videos`),
  copyCourse: (courseId: string, code: string, title: string) =>
    request<{ course_id: string; skipped: number }>('POST', `/api/v1/courses/${enc(courseId)}/copy`, { json: { code, title } }),
  fileLink: (fileId: number) =>
    request<{ url: string }>('POST', `/api/v1/files/${fileId}/link`, { json: { disposition: 'attachment' } }),
  record: (itemId: string, event: 'view' | 'done') =>
    request<ItemProgress>('POST', `/api/v1/items/${enc(itemId)}/progress`, { json: { event } }),
  pages: (courseId: string) => request<ContentPage[]>('GET', `/api/v1/courses/${enc(courseId)}/pages`),
  addPage: (courseId: string, title: string) => request<ContentPage>('POST', `/api/v1/courses/${enc(courseId)}/pages`, { json: { title } }),
  page: (id: string) => request<ContentPage>('GET', `/api/v1/pages/${enc(id)}`),
  editor: (id: string) => request<PageEditorAccess>('POST', `/api/v1/pages/${enc(id)}/editor`),
  publish: (id: string) => request<ContentPage>('POST', `/api/v1/pages/${enc(id)}/publish`),
  unpublish: (id: string) => request<ContentPage>('DELETE', `/api/v1/pages/${enc(id)}/publish`),
  renamePage: (id: string, title: string) => request<ContentPage>('PATCH', `/api/v1/pages/${enc(id)}`, { json: { title } }),
  deletePage: (id: string) => request<void>('DELETE', `/api/v1/pages/${enc(id)}`),
  progress: (courseId: string, cursor?: string | null) =>
    request<ProgressTable>('GET', `/api/v1/courses/${enc(courseId)}/progress${cursor ? `?cursor=${enc(cursor)}` : ''}`),
}
