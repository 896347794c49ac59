// A course's files, for its staff: resumable uploads over tus (the stock tus-js-client)
// with a progress bar each, paused and resumed by hand or by themselves after a dropped
// connection, and the list of the course's files with download links and deletion.

import type { Upload } from 'tus-js-client'
import * as api from '../api'
import { announce, confirmDialog, fill, h, toast } from '../dom'
import { formatBytes, formatDateTime, formatPercent, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'

interface CourseFile {
  id: number
  name: string
  size: number
  content_type: string
  created_at: string
}

interface FilePage {
  items: CourseFile[]
  next: string | null
}

const CHUNK_BYTES = 8 * 1024 * 1024
/** Waits between attempts after a failure (ms): a dropped connection is tried again for
 * about two minutes before the upload stops and waits for Resume. */
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10_000, 20_000, 30_000, 60_000]

/** One upload's row: its progress bar and state, and the buttons that control it. */
export class UploadRow {
  readonly el: HTMLElement
  private readonly bar: HTMLProgressElement
  private readonly state: HTMLElement
  private readonly toggle: HTMLButtonElement
  private readonly cancel: HTMLButtonElement
  private readonly upload: Upload
  private fraction = 0
  private running = false

  /** A row for ``file`` (tus-js-client is loaded on first use). */
  static async create(file: File, courseId: string, done: (fileId: number | null) => void, metadata: Record<string, string> = {}): Promise<UploadRow> {
    const tus = await import('tus-js-client')
    return new UploadRow(tus.Upload, file, courseId, done, metadata)
  }

  private constructor(
    UploadClass: typeof Upload,
    private readonly file: File,
    courseId: string,
    private readonly done: (fileId: number | null) => void,
    metadata: Record<string, string>,
  ) {
    const name = file.name
    this.bar = h('progress', { max: 1, value: 0, 'aria-label': t('files.progress', { name }) }) as HTMLProgressElement
    this.state = h('span.small', { 'data-testid': 'upload-state' })
    this.toggle = h('button.small', { type: 'button', onclick: () => this.pauseOrResume() }) as HTMLButtonElement
    this.cancel = h('button.small', { type: 'button', 'aria-label': t('files.cancelLabel', { name }), onclick: () => void this.abort() }, t('files.cancel')) as HTMLButtonElement
    this.el = h('li.card.stack.upload', { 'data-name': name }, h('strong', null, name), this.bar, this.state, h('div.row.wrap', null, this.toggle, this.cancel))
    this.upload = new UploadClass(file, {
      endpoint: `/api/v1/courses/${encodeURIComponent(courseId)}/uploads`,
      chunkSize: CHUNK_BYTES,
      retryDelays: RETRY_DELAYS,
      metadata: { ...metadata, filename: name, filetype: file.type },
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onBeforeRequest: async (request) => {
        const header = await api.authorization()
        if (header) request.setHeader('Authorization', header)
      },
      onShouldRetry: (error, attempt, options) => {
        const status = error.originalResponse?.getStatus() ?? 0
        if (status === 401) {
          void api.authorization(true) // the next attempt's onBeforeRequest sends the new token
          return attempt < 2
        }
        const retry = status === 0 || status === 409 || status === 423 || status >= 500
        if (retry) this.show('retrying')
        return retry && attempt < (options.retryDelays?.length ?? 0)
      },
      onProgress: (sent, total) => {
        this.fraction = total ? sent / total : 0
        this.show('uploading')
      },
      onSuccess: (payload) => {
        this.running = false
        this.fraction = 1
        this.show('done')
        announce(t('files.announce.done', { name }))
        const location = payload.lastResponse.getHeader('Content-Location') ?? ''
        const id = Number(location.split('/').pop())
        this.done(Number.isInteger(id) && id > 0 ? id : null)
      },
      onError: (error) => {
        this.running = false
        const reason = problemOf(error)
        this.show('failed', reason)
        announce(t('files.announce.failed', { name, reason }), 'assertive')
      },
    })
  }

  async start(): Promise<void> {
    const previous = await this.upload.findPreviousUploads()
    if (previous.length) this.upload.resumeFromPreviousUpload(previous[0])
    this.running = true
    this.show('uploading')
    this.upload.start()
  }

  private pauseOrResume(): void {
    if (this.running) {
      this.running = false
      void this.upload.abort()
      this.show('paused')
    } else {
      this.running = true
      this.show('uploading')
      this.upload.start()
    }
  }

  private async abort(): Promise<void> {
    this.running = false
    await this.upload.abort(true).catch(() => undefined)
    this.el.remove()
  }

  private show(state: 'uploading' | 'paused' | 'retrying' | 'done' | 'failed', reason = ''): void {
    const name = this.file.name
    const percent = formatPercent(this.fraction)
    this.bar.value = this.fraction
    this.el.dataset.state = state
    const text = {
      uploading: () => t('files.state.uploading', { percent, size: formatBytes(this.file.size) }),
      paused: () => t('files.state.paused', { percent }),
      retrying: () => t('files.state.retrying', { percent }),
      done: () => t('files.state.done'),
      failed: () => t('files.state.failed', { reason }),
    }[state]()
    if (state === 'retrying' && this.state.textContent !== text) announce(t('files.announce.retrying', { name }))
    this.state.textContent = text
    const finished = state === 'done'
    this.toggle.hidden = finished
    this.cancel.hidden = finished
    const resumable = state === 'paused' || state === 'failed'
    this.toggle.textContent = resumable ? t('files.resume') : t('files.pause')
    this.toggle.setAttribute('aria-label', t(resumable ? 'files.resumeLabel' : 'files.pauseLabel', { name }))
  }
}

function problemOf(error: Error): string {
  const response = (error as Error & { originalResponse?: { getBody(): string } | null }).originalResponse
  try {
    const body = JSON.parse(response?.getBody() ?? '') as { detail?: string; title?: string }
    return body.detail || body.title || error.message
  } catch {
    return error.message
  }
}

export function filesPage(courseId: string, user: api.User, navigate: Navigate): Page {
  const course = encodeURIComponent(courseId)
  const heading = h('h1', null, t('files.title'))
  const uploads = h('ul.stack.uploads', { 'aria-label': t('files.uploads') })
  const list = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('files.loading')))
  const picker = h('input#file-picker', {
    type: 'file',
    multiple: true,
    onchange: (event: Event) => {
      const input = event.target as HTMLInputElement
      const chosen = [...(input.files ?? [])]
      input.value = ''
      for (const file of chosen) {
        void UploadRow.create(file, courseId, () => void load()).then((row) => {
          uploads.append(row.el)
          return row.start()
        })
      }
    },
  })

  function row(file: CourseFile): HTMLElement {
    return h(
      'tr',
      { 'data-file-id': String(file.id) },
      h('th', { scope: 'row' }, file.name),
      h('td', null, file.content_type.split(';')[0]),
      h('td', null, formatBytes(file.size)),
      h('td', null, formatDateTime(file.created_at)),
      h(
        'td',
        null,
        h('div.row.wrap', null,
          h('button.small', { type: 'button', 'aria-label': t('files.downloadLabel', { name: file.name }), onclick: () => void download(file) }, t('files.download')),
          h('button.small.danger', { type: 'button', 'aria-label': t('files.deleteLabel', { name: file.name }), onclick: () => void remove(file) }, t('files.delete')),
        ),
      ),
    )
  }

  async function download(file: CourseFile): Promise<void> {
    try {
      const link = await api.request<{ url: string }>('POST', `/api/v1/files/${file.id}/link`, { json: { disposition: 'attachment' } })
      window.location.assign(link.url)
    } catch (error) {
      toast(error instanceof Error ? error.message : String(error), 'error')
    }
  }

  async function remove(file: CourseFile): Promise<void> {
    if (!(await confirmDialog(t('files.delete'), t('files.deleteConfirm', { name: file.name }), t('files.delete'), true))) return
    try {
      await api.request('DELETE', `/api/v1/files/${file.id}`)
      announce(t('files.deleted', { name: file.name }))
      await load()
      heading.focus()
    } catch (error) {
      toast(error instanceof Error ? error.message : String(error), 'error')
    }
  }

  async function load(): Promise<void> {
    try {
      const found: CourseFile[] = []
      let path: string | null = `/api/v1/courses/${course}/files?limit=200`
      while (path) {
        const page: FilePage = await api.request<FilePage>('GET', path)
        found.push(...page.items)
        path = page.next ? `/api/v1/courses/${course}/files?limit=200&cursor=${encodeURIComponent(page.next)}` : null
      }
      list.setAttribute('aria-busy', 'false')
      fill(
        list,
        found.length
          ? h(
              'div.table-wrap',
              { tabindex: 0, role: 'region', 'aria-label': t('files.list') },
              h(
                'table.table.files',
                null,
                h('caption', null, t('files.list')),
                h('thead', null, h('tr', null, ...(['name', 'type', 'size', 'added', 'actions'] as const).map((c) => h('th', { scope: 'col' }, t(`files.column.${c}`))))),
                h('tbody', null, found.map(row)),
              ),
            )
          : h('p', null, t('files.none')),
      )
    } catch (error) {
      list.setAttribute('aria-busy', 'false')
      fill(list, h('p', { role: 'alert' }, error instanceof Error ? error.message : t('files.failed')))
    }
  }

  async function title(): Promise<void> {
    try {
      const found = await api.request<{ title: string }>('GET', `/api/v1/courses/${course}`)
      heading.textContent = t('files.heading', { course: found.title })
    } catch {
      // the list reports what went wrong
    }
  }

  heading.tabIndex = -1
  void title()
  void load()
  return {
    title: t('files.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack',
        null,
        heading,
        h('p', null, h('a', { href: `/courses/${course}`, 'data-link': '' }, t('files.back'))),
        h('div.stack', null, h('label', { for: 'file-picker' }, t('files.choose')), picker, h('p.muted.small', null, t('files.hint'))),
        uploads,
        list,
      ),
    ),
  }
}
