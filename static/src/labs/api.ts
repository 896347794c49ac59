// The labs REST client and the lab's live feed (docs/protocol.md, "Labs").

import { request } from '../api'

const enc = encodeURIComponent

export interface LabFile {
  name: string
  text: string
}

export interface LabTest {
  id: string
  name: string
  source: string
}

export interface Step {
  id: string
  title: string
  body: string
  html: string
  file: string | null
  points: number
  test_count: number
  tests: LabTest[] | null
  done: boolean
}

export interface Broadcast {
  id: string
  kind: 'hint' | 'snippet'
  text: string
  file: string | null
  at: string
}

export interface Lab {
  id: string
  course_id: string
  title: string
  instructions: string
  html: string
  status: 'draft' | 'running' | 'ended' | 'archived'
  locked: boolean
  shared_user_id: string | null
  broadcast: Broadcast | null
  steps: Step[]
  files: LabFile[]
  points: number
  my_role: 'staff' | 'learner' | null
  current_step: number | null
}

export interface StepIn {
  id: string
  title: string
  body: string
  file: string | null
  points: number
  tests: LabTest[]
}

export interface LabIn {
  title: string
  instructions: string
  steps: StepIn[]
  files: LabFile[]
}

export interface Editor {
  lab_id: string
  user_id: string
  document: string
  token: string
  url: string
  files: string[]
  writable: boolean
}

export interface CheckResult {
  step_id: string
  passed: boolean
  status: string
  tests: { id: string; name: string; passed: boolean }[]
  output: string
  duration_ms: number
  points: number
  completed: boolean
  current_step: number
}

export interface HelpRequest {
  id: number
  user_id: string
  name: string
  step_id: string | null
  note: string
  status: 'open' | 'taken' | 'resolved'
  taken_by: string | null
  created_at: string
  position: number | null
}

export interface Tile {
  user_id: string
  name: string
  document: string
  file: string
  thumbnail: string
  lines: number
  current_step: number
  steps_done: number
  last_check: { step_id: string; passed: boolean; status: string; at: string } | null
  last_activity_at: string | null
  progressed_at: string
  help: { id: number; status: string; step_id: string | null } | null
}

export interface Activity {
  id: number
  user_id: string
  kind: string
  detail: Record<string, unknown>
  at: string
}

export const labs = {
  list: (courseId: string) => request<{ items: Lab[] }>('GET', `/api/v1/courses/${enc(courseId)}/labs`),
  create: (courseId: string, body: LabIn) => request<Lab>('POST', `/api/v1/courses/${enc(courseId)}/labs`, { json: body }),
  get: (labId: string) => request<Lab>('GET', `/api/v1/labs/${enc(labId)}`),
  update: (labId: string, body: Partial<LabIn>) => request<Lab>('PATCH', `/api/v1/labs/${enc(labId)}`, { json: body }),
  start: (labId: string) => request<{ lab: Lab; workspaces: number }>('POST', `/api/v1/labs/${enc(labId)}/start`),
  end: (labId: string) => request<Lab>('POST', `/api/v1/labs/${enc(labId)}/end`),
  remove: (labId: string) => request<void>('DELETE', `/api/v1/labs/${enc(labId)}`),
  mine: (labId: string) => request<Editor>('POST', `/api/v1/labs/${enc(labId)}/workspace`),
  editor: (labId: string, userId: string) => request<Editor>('POST', `/api/v1/labs/${enc(labId)}/workspaces/${enc(userId)}/editor`),
  feed: (labId: string) => request<{ token: string; url: string }>('POST', `/api/v1/labs/${enc(labId)}/feed`),
  reset: (labId: string, userId: string) => request<void>('POST', `/api/v1/labs/${enc(labId)}/workspaces/${enc(userId)}/reset`),
  lock: (labId: string, locked: boolean) => request<Lab>('POST', `/api/v1/labs/${enc(labId)}/lock`, { json: { locked } }),
  share: (labId: string, userId: string | null) => request<Lab>('POST', `/api/v1/labs/${enc(labId)}/share`, { json: { user_id: userId } }),
  broadcast: (labId: string, kind: 'hint' | 'snippet', text: string) =>
    request<Lab>('POST', `/api/v1/labs/${enc(labId)}/broadcast`, { json: { kind, text } }),
  check: (labId: string, stepId: string) => request<CheckResult>('POST', `/api/v1/labs/${enc(labId)}/check`, { json: { step_id: stepId } }),
  ran: (labId: string, ok: boolean) => request<void>('POST', `/api/v1/labs/${enc(labId)}/activity`, { json: { kind: 'ran', ok } }),
  timeline: (labId: string, userId: string) => request<{ items: Activity[] }>('GET', `/api/v1/labs/${enc(labId)}/timeline?user_id=${enc(userId)}`),
  ask: (labId: string, stepId: string | null, note: string) =>
    request<HelpRequest>('POST', `/api/v1/labs/${enc(labId)}/help`, { json: { step_id: stepId, note } }),
  myHelp: (labId: string) => request<{ request: HelpRequest | null; position: number | null; queue: number[] }>('GET', `/api/v1/labs/${enc(labId)}/help/mine`),
  queue: (labId: string) => request<{ items: HelpRequest[] }>('GET', `/api/v1/labs/${enc(labId)}/help?status=open`),
  taken: (labId: string) => request<{ items: HelpRequest[] }>('GET', `/api/v1/labs/${enc(labId)}/help?status=taken`),
  take: (labId: string, id: number) => request<HelpRequest>('POST', `/api/v1/labs/${enc(labId)}/help/${id}/take`),
  resolve: (labId: string, id: number) => request<HelpRequest>('POST', `/api/v1/labs/${enc(labId)}/help/${id}/resolve`),
}

export type FeedMessage = { type: string } & Record<string, unknown>

/** The lab's live feed: reconnects with a fresh token until closed, refused (4003) or the
 * lab is archived (4004). */
export class LabFeed {
  private ws: WebSocket | null = null
  private closed = false
  private retries = 0

  constructor(
    private readonly labId: string,
    private readonly onMessage: (message: FeedMessage) => void,
    private readonly onStatus: (connected: boolean) => void = () => {},
  ) {
    void this.connect()
  }

  private async connect(): Promise<void> {
    if (this.closed) return
    let url: string
    try {
      url = (await labs.feed(this.labId)).url
    } catch {
      this.later()
      return
    }
    if (this.closed) return
    const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + url)
    this.ws = ws
    ws.onopen = () => {
      this.retries = 0
      this.onStatus(true)
    }
    ws.onmessage = (event) => {
      try {
        this.onMessage(JSON.parse(String(event.data)) as FeedMessage)
      } catch {
        // not ours: ignore
      }
    }
    ws.onclose = (event) => {
      this.onStatus(false)
      if (event.code !== 4003 && event.code !== 4004) this.later()
    }
  }

  private later(): void {
    if (this.closed) return
    const wait = Math.min(250 * 2 ** this.retries++, 5000)
    window.setTimeout(() => void this.connect(), wait)
  }

  close(): void {
    this.closed = true
    this.ws?.close()
  }
}
