// The instructor's live view of a lab: every learner's workspace as a tile (first lines of
// the current file, step, last check, last activity, help), sorted and filtered, updated
// live from the lab feed; the help queue (take in order, resolve); open any workspace and
// edit together; reset; broadcast; lock ("eyes on me"); share one workspace with the group.

import * as api from '../api'
import { RoomDoc } from '../collab'
import { announce, colorFor, confirmDialog, fill, h, toast } from '../dom'
import { formatTime, t } from '../i18n'
import { CodeEditor } from '../labs/codeEditor'
import { type FeedMessage, type HelpRequest, type Lab, LabFeed, labs, type Tile } from '../labs/api'
import type { Navigate, Page } from '../main'
import { readable } from './gradebookApi'
import { yjsBase } from './lab'
import { topbar } from './shell'

type Sort = 'stuck' | 'name' | 'activity'

export function labGridPage(courseId: string, labId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', null, t('labGrid.title'))
  const problem = h('p.error', { role: 'alert', hidden: true })
  const status = h('p', { role: 'status', 'data-testid': 'lab-status' })
  const startButton = h('button.primary', { type: 'button', hidden: true, onclick: () => void start() }, t('labGrid.start'))
  const lockButton = h('button', { type: 'button', 'aria-pressed': 'false', onclick: () => void toggleLock() }, t('labGrid.lock'))
  const lockState = h('p.small', { role: 'status', 'data-testid': 'lock-state' }, t('labGrid.unlocked'))
  const kind = h('select#broadcast-kind', null, h('option', { value: 'hint' }, t('labGrid.hint')), h('option', { value: 'snippet' }, t('labGrid.snippet'))) as HTMLSelectElement
  const message = h('textarea#broadcast-text', { rows: 2, maxlength: 4000, required: true }) as HTMLTextAreaElement
  const sort = h(
    'select#grid-sort',
    { onchange: () => render() },
    h('option', { value: 'stuck' }, t('labGrid.sortStuck')),
    h('option', { value: 'name' }, t('labGrid.sortName')),
    h('option', { value: 'activity' }, t('labGrid.sortActivity')),
  ) as HTMLSelectElement
  const failing = h('input#grid-failing', { type: 'checkbox', onchange: () => render() }) as HTMLInputElement
  const grid = h('ul.lab-grid', { 'aria-label': t('labGrid.workspaces'), 'data-testid': 'grid' })
  const queueList = h('ol.stack', { 'data-testid': 'help-queue' })
  const mineList = h('ul.stack', { 'data-testid': 'help-mine' })
  const panel = h('section.stack.card', { hidden: true, 'aria-labelledby': 'workspace-heading', 'data-testid': 'workspace-panel' })
  const tiles = new Map<string, Tile>()
  let lab: Lab | null = null
  let feed: LabFeed | null = null
  let openDoc: RoomDoc | null = null
  let openEditor: CodeEditor | null = null
  let openUser: string | null = null
  let closed = false

  function order(list: Tile[]): Tile[] {
    const by = sort.value as Sort
    const sorted = [...list]
    if (by === 'name') sorted.sort((a, b) => a.name.localeCompare(b.name))
    else if (by === 'activity') sorted.sort((a, b) => (a.last_activity_at ?? '').localeCompare(b.last_activity_at ?? ''))
    else sorted.sort((a, b) => a.progressed_at.localeCompare(b.progressed_at))
    return failing.checked ? sorted.filter((tile) => tile.last_check && !tile.last_check.passed) : sorted
  }

  function tileView(tile: Tile): HTMLElement {
    const total = lab?.steps.length ?? 0
    const check = tile.last_check ? (tile.last_check.passed ? t('labGrid.checkPassed') : t('labGrid.checkFailed')) : t('labGrid.noCheck')
    return h(
      'li.card.stack.lab-tile',
      { 'data-user': tile.user_id, 'data-testid': 'tile' },
      h('h3', null, tile.name),
      h('p.small', null, t('labGrid.stepOf', { n: Math.min(tile.current_step + 1, Math.max(total, 1)), total }), ' · ', check),
      tile.help ? h('p.badge.warn', null, t('labGrid.wantsHelp')) : null,
      h('p.small.muted', null, tile.file),
      h('pre.thumbnail', { 'data-testid': 'thumbnail' }, tile.thumbnail),
      h('p.small.muted', null, tile.last_activity_at ? t('labGrid.activity', { when: formatTime(tile.last_activity_at) }) : ''),
      h(
        'div.row.wrap',
        null,
        h('button', { type: 'button', onclick: () => void openWorkspace(tile.user_id) }, t('labGrid.open', { name: tile.name })),
        h('button', { type: 'button', onclick: () => void reset(tile) }, t('labGrid.reset', { name: tile.name })),
        h('button', { type: 'button', onclick: () => void share(tile.user_id) }, t('labGrid.share', { name: tile.name })),
      ),
    )
  }

  function render(): void {
    const list = order([...tiles.values()])
    fill(grid, list.length ? list.map(tileView) : h('li', null, t('labGrid.none')))
  }

  function nameOf(userId: string): string {
    return tiles.get(userId)?.name ?? ''
  }

  async function refreshQueue(): Promise<void> {
    try {
      const [open, taken] = await Promise.all([labs.queue(labId), labs.taken(labId)])
      fill(
        queueList,
        open.items.length
          ? open.items.map((request) =>
              h('li.row.wrap', null, h('span', null, request.name, request.note ? ` — ${request.note}` : ''), h('button', { type: 'button', onclick: () => void take(request) }, t('labGrid.take', { name: request.name }))),
            )
          : h('li', null, t('labGrid.queueEmpty')),
      )
      const mine = taken.items.filter((request) => request.taken_by === user.id)
      fill(
        mineList,
        mine.map((request) =>
          h(
            'li.row.wrap',
            null,
            h('span', null, request.name),
            h('button', { type: 'button', onclick: () => void openWorkspace(request.user_id) }, t('labGrid.open', { name: request.name })),
            h('button', { type: 'button', onclick: () => void resolve(request) }, t('labGrid.resolve', { name: request.name })),
          ),
        ),
      )
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  function onFeed(message: FeedMessage): void {
    if (message.type === 'welcome') {
      tiles.clear()
      for (const tile of (message.workspaces as Tile[] | undefined) ?? []) tiles.set(tile.user_id, tile)
      showLock(Boolean(message.locked))
      render()
      void refreshQueue()
    } else if (message.type === 'workspaces') {
      for (const tile of message.items as Tile[]) tiles.set(tile.user_id, tile)
      render()
    } else if (message.type === 'queue') {
      void refreshQueue()
    } else if (message.type === 'lock') {
      showLock(Boolean(message.locked))
    }
  }

  function showLock(locked: boolean): void {
    lockButton.setAttribute('aria-pressed', String(locked))
    lockState.textContent = locked ? t('labGrid.locked') : t('labGrid.unlocked')
    if (lab) lab.locked = locked
  }

  async function toggleLock(): Promise<void> {
    try {
      const next = lockButton.getAttribute('aria-pressed') !== 'true'
      lab = await labs.lock(labId, next)
      showLock(lab.locked)
      announce(lockState.textContent ?? '')
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  async function take(request: HelpRequest): Promise<void> {
    try {
      await labs.take(labId, request.id)
      await refreshQueue()
      await openWorkspace(request.user_id)
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  async function resolve(request: HelpRequest): Promise<void> {
    try {
      await labs.resolve(labId, request.id)
      await refreshQueue()
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  async function reset(tile: Tile): Promise<void> {
    if (!(await confirmDialog(t('labGrid.reset', { name: tile.name }), t('labGrid.resetConfirm'), t('labGrid.reset', { name: tile.name }), true))) return
    try {
      await labs.reset(labId, tile.user_id)
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  async function share(userId: string | null): Promise<void> {
    try {
      lab = await labs.share(labId, userId)
      announce(userId ? t('labGrid.share', { name: nameOf(userId) }) : t('labGrid.unshare'))
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  function closeWorkspace(): void {
    openEditor?.destroy()
    openDoc?.destroy()
    openEditor = null
    openDoc = null
    openUser = null
    panel.hidden = true
  }

  async function openWorkspace(userId: string): Promise<void> {
    closeWorkspace()
    try {
      const access = await labs.editor(labId, userId)
      const color = colorFor(user.id)
      openUser = userId
      openDoc = new RoomDoc({ name: access.document, url: yjsBase(), token: access.token }, 'page', { id: user.id, name: user.name, color }, {
        denied: () => undefined,
        stopped: () => closeWorkspace(),
        token: async () => (await labs.editor(labId, userId)).token,
        freshTokenOnReconnect: true,
      })
      openDoc.provider.awareness.setLocalStateField('user', { id: user.id, name: user.name, color, colorLight: color.replace('40%)', '85%)') })
      openEditor = new CodeEditor(t('labGrid.workspaceOf', { name: nameOf(userId) }))
      const tile = tiles.get(userId)
      openEditor.attach(openDoc, tile?.file || access.files[0] || 'main.py')
      const timeline = h('ol.small', { 'data-testid': 'timeline' })
      fill(
        panel,
        h('h2#workspace-heading', null, t('labGrid.workspaceOf', { name: nameOf(userId) })),
        openEditor.root,
        h('div.row.wrap', null, h('button', { type: 'button', onclick: () => closeWorkspace() }, t('labGrid.close')), h('button', { type: 'button', onclick: () => void share(null) }, t('labGrid.unshare'))),
        h('h3', null, t('labGrid.timeline')),
        timeline,
      )
      panel.hidden = false
      panel.querySelector<HTMLElement>('h2')?.focus()
      const events = await labs.timeline(labId, userId)
      if (openUser === userId) fill(timeline, events.items.map((e) => h('li', null, `${formatTime(e.at)} ${e.kind}`)))
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  async function start(): Promise<void> {
    try {
      lab = (await labs.start(labId)).lab
      showStatus()
      feed?.close()
      feed = new LabFeed(labId, onFeed)
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  function showStatus(): void {
    if (!lab) return
    status.textContent = t('labGrid.status', { status: lab.status })
    startButton.hidden = lab.status === 'running'
  }

  async function sendBroadcast(event: Event): Promise<void> {
    event.preventDefault()
    const text = message.value.trim()
    if (!text) return
    try {
      await labs.broadcast(labId, kind.value as 'hint' | 'snippet', text)
      message.value = ''
      announce(t('labGrid.sent'))
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  async function open(): Promise<void> {
    try {
      lab = await labs.get(labId)
      if (closed) return
      heading.textContent = t('labGrid.heading', { title: lab.title })
      document.title = t('app.titleSuffix', { title: heading.textContent })
      showStatus()
      showLock(lab.locked)
      feed = new LabFeed(labId, onFeed)
    } catch (error) {
      problem.textContent = readable(error)
      problem.hidden = false
    }
  }

  void open()
  return {
    title: t('labGrid.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack.lab-grid-page',
        null,
        h('p', null, h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('lab.back')), ' · ', h('a', { href: `/courses/${courseId}/labs/${labId}/edit`, 'data-link': '' }, t('labEditor.title'))),
        heading,
        problem,
        h('div.row.wrap', null, status, startButton, lockButton, lockState),
        h(
          'form.stack.card',
          { onsubmit: (event: Event) => void sendBroadcast(event), 'aria-labelledby': 'broadcast-heading' },
          h('h2#broadcast-heading', null, t('labGrid.broadcast')),
          h('div.field', null, h('label', { for: 'broadcast-kind' }, t('labGrid.broadcastKind')), kind),
          h('div.field', null, h('label', { for: 'broadcast-text' }, t('labGrid.broadcastText')), message),
          h('button', { type: 'submit' }, t('labGrid.send')),
        ),
        panel,
        h(
          'section.stack',
          { 'aria-labelledby': 'queue-heading' },
          h('h2#queue-heading', null, t('labGrid.queue')),
          queueList,
          h('h3', null, t('labGrid.mine')),
          mineList,
        ),
        h(
          'section.stack',
          { 'aria-labelledby': 'grid-heading' },
          h('h2#grid-heading', null, t('labGrid.workspaces')),
          h(
            'div.row.wrap',
            null,
            h('div.field', null, h('label', { for: 'grid-sort' }, t('labGrid.sort')), sort),
            h('div.field.row', null, failing, h('label', { for: 'grid-failing' }, t('labGrid.failing'))),
          ),
          grid,
        ),
      ),
    ),
    destroy: () => {
      closed = true
      feed?.close()
      closeWorkspace()
    },
  }
}
