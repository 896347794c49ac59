// A learner's lab: instructions, steps with status, my workspace (code files bound to the
// workspace's Yjs document), Run in the browser (Pyodide), Check on the server (the result
// that counts), the output as a live region, the help queue, the instructor's broadcasts,
// the "eyes on me" lock and the workspace the instructor shares with the group.

import * as api from '../api'
import { RoomDoc } from '../collab'
import { announce, colorFor, fill, h, toast } from '../dom'
import { t } from '../i18n'
import { CodeEditor } from '../labs/codeEditor'
import { type Broadcast, type Editor, type FeedMessage, type Lab, LabFeed, labs } from '../labs/api'
import { runPython } from '../labs/pyodide'
import type { Navigate, Page } from '../main'
import { readable } from './gradebookApi'
import { topbar } from './shell'

function safeHtml(html: string): HTMLElement {
  // The server renders and sanitizes the Markdown (lms/content/render.py).
  const box = h('div.prose')
  box.innerHTML = html
  return box
}

/** The Yjs channel's base address (the document name follows it). */
export function yjsBase(): string {
  return `${location.origin.replace(/^http/, 'ws')}/yjs`
}

export function labPage(courseId: string, labId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', null, t('lab.title'))
  const problem = h('p.error', { role: 'alert', hidden: true })
  let archived = false
  const banner = h('section.lab-banner', { role: 'status', 'aria-live': 'polite', 'data-testid': 'broadcast' })
  const lockNote = h('p.badge.warn', { role: 'status', hidden: true, 'data-testid': 'lock-state' }, t('lab.locked'))
  const sharedNote = h('div.stack', { hidden: true })
  const instructions = h('section.stack', { 'aria-labelledby': 'lab-instructions' })
  const steps = h('ol.lab-steps', { 'data-testid': 'steps' })
  const tabs = h('div.row.wrap', { role: 'group', 'aria-label': t('lab.files') })
  const editor = new CodeEditor(t('lab.editor'))
  const output = h('pre.lab-output', { role: 'log', 'aria-live': 'polite', 'aria-label': t('lab.output'), tabindex: 0, 'data-testid': 'output' }, t('lab.outputEmpty'))
  const connection = h('p.small.muted', { 'data-testid': 'connection' })
  const queueState = h('p', { role: 'status', 'data-testid': 'queue-position' }, t('lab.notWaiting'))
  const note = h('input#help-note', { maxlength: 500, autocomplete: 'off' }) as HTMLInputElement
  const runButton = h('button.primary', { type: 'button', onclick: () => void run() }, t('lab.run'))
  const checkButton = h('button', { type: 'button', onclick: () => void check() }, t('lab.check', { n: 1 }))
  const askButton = h('button', { type: 'submit' }, t('lab.ask'))
  const withdrawButton = h('button', { type: 'button', hidden: true, onclick: () => void withdraw() }, t('lab.withdraw'))
  const sharedBox = h('section.stack', { hidden: true, 'aria-labelledby': 'lab-shared' })
  let lab: Lab | null = null
  let access: Editor | null = null
  let doc: RoomDoc | null = null
  let sharedDoc: RoomDoc | null = null
  let sharedEditor: CodeEditor | null = null
  let feed: LabFeed | null = null
  let file = ''
  let locked = false
  let myRequest: number | null = null
  let closed = false

  function current(): number {
    return Math.min(lab?.current_step ?? 0, Math.max(0, (lab?.steps.length ?? 1) - 1))
  }

  function showSteps(): void {
    if (!lab) return
    const now = current()
    fill(
      steps,
      lab.steps.map((step, index) =>
        h(
          'li.card.stack',
          { 'aria-current': index === now ? 'step' : undefined, 'data-step': step.id },
          h('h3', null, t('lab.step', { n: index + 1, title: step.title })),
          h('p.small', null, step.done ? t('lab.stepDone') : index === now ? t('lab.stepCurrent') : t('lab.stepTodo'), ' · ', t('lab.points', { count: step.points })),
          safeHtml(step.html),
        ),
      ),
    )
    checkButton.textContent = t('lab.check', { n: now + 1 })
    checkButton.hidden = lab.steps.length === 0
    const wanted = lab.steps[now]?.file ?? file
    if (wanted && wanted !== file && doc) openFile(wanted)
  }

  function openFile(name: string): void {
    if (!doc) return
    file = name
    editor.attach(doc, name)
    editor.setReadOnly(locked || !access?.writable)
    for (const button of tabs.querySelectorAll<HTMLButtonElement>('button')) button.setAttribute('aria-pressed', String(button.dataset.file === name))
  }

  function setLocked(value: boolean): void {
    locked = value
    lockNote.hidden = !value
    editor.setReadOnly(value)
    runButton.disabled = false
  }

  function showBroadcast(message: Broadcast | null): void {
    if (!message) return fill(banner)
    const insert =
      message.kind === 'snippet'
        ? h('button', { type: 'button', onclick: () => editor.insert(message.text) }, t('lab.insert'))
        : null
    fill(
      banner,
      h(
        'div.card.stack',
        null,
        h('strong', null, t('lab.broadcast')),
        message.kind === 'snippet' ? h('pre', null, message.text) : h('p', null, message.text),
        h('div.row.wrap', null, insert, h('button', { type: 'button', onclick: () => fill(banner) }, t('lab.dismiss'))),
      ),
    )
  }

  function showShared(userId: string | null): void {
    sharedNote.hidden = !userId || userId === user.id
    fill(
      sharedNote,
      h('p', null, t('lab.shared')),
      h('button', { type: 'button', onclick: () => userId && void openShared(userId) }, t('lab.openShared')),
    )
    if (!userId) closeShared()
  }

  async function openShared(userId: string): Promise<void> {
    closeShared()
    try {
      const shared = await labs.editor(labId, userId)
      sharedDoc = new RoomDoc({ name: shared.document, url: yjsBase(), token: shared.token }, 'page', { id: user.id, name: user.name, color: colorFor(user.id) }, {
        denied: () => undefined,
        stopped: () => closeShared(),
        token: async () => (await labs.editor(labId, userId)).token,
        freshTokenOnReconnect: true,
      })
      sharedEditor = new CodeEditor(t('lab.sharedHeading'))
      sharedEditor.attach(sharedDoc, shared.files[0] ?? 'main.py')
      sharedEditor.setReadOnly(true)
      fill(sharedBox, h('h2#lab-shared', null, t('lab.sharedHeading')), sharedEditor.root)
      sharedBox.hidden = false
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  function closeShared(): void {
    sharedEditor?.destroy()
    sharedDoc?.destroy()
    sharedEditor = null
    sharedDoc = null
    sharedBox.hidden = true
  }

  function showQueue(open: number[]): void {
    if (myRequest === null) return
    const index = open.indexOf(myRequest)
    queueState.textContent = index >= 0 ? t('lab.position', { position: index + 1 }) : t('lab.beingHelped')
  }

  function onFeed(message: FeedMessage): void {
    if (message.type === 'welcome') {
      setLocked(Boolean(message.locked))
      showBroadcast((message.broadcast as Broadcast | null) ?? null)
      showShared((message.shared_user_id as string | null) ?? null)
      void refreshHelp()
    } else if (message.type === 'lock') {
      setLocked(Boolean(message.locked))
      announce(message.locked ? t('lab.locked') : t('labGrid.unlocked'))
    } else if (message.type === 'broadcast') {
      showBroadcast(message.broadcast as Broadcast)
    } else if (message.type === 'share') {
      showShared((message.user_id as string | null) ?? null)
    } else if (message.type === 'status' && message.status === 'archived') {
      archived = true
      problem.textContent = t('lab.archived')
      problem.hidden = false
      editor.setReadOnly(true)
    } else if (message.type === 'queue') {
      const open = message.open as number[]
      if (myRequest !== null && !open.includes(myRequest)) void refreshHelp()
      else showQueue(open)
    }
  }

  async function refreshHelp(): Promise<void> {
    try {
      const mine = await labs.myHelp(labId)
      myRequest = mine.request?.id ?? null
      withdrawButton.hidden = myRequest === null
      askButton.hidden = myRequest !== null
      if (mine.request === null) queueState.textContent = t('lab.notWaiting')
      else showQueue(mine.queue)
    } catch {
      // shown on the next signal
    }
  }

  async function run(): Promise<void> {
    runButton.disabled = true
    output.textContent = t('lab.running')
    try {
      // The other files of the workspace sit beside the program (`import helper` works).
      const files: Record<string, string> = {}
      for (const name of access?.files ?? []) if (name !== file && doc) files[name] = doc.doc.getText(`file:${name}`).toString()
      const result = await runPython(editor.code(), { files })
      const parts = [result.stdout, result.stderr, result.error ?? ''].filter(Boolean)
      output.textContent = [...parts, t('lab.ranIn', { ms: Math.round(result.ms) })].join('\n')
      void labs.ran(labId, result.error === null).catch(() => undefined)
    } catch (error) {
      output.textContent = readable(error)
    } finally {
      runButton.disabled = false
    }
  }

  async function check(): Promise<void> {
    if (!lab) return
    const index = current()
    const step = lab.steps[index]
    if (!step) return
    checkButton.disabled = true
    output.textContent = t('lab.checking')
    try {
      await doc?.flushed()
      const result = await labs.check(labId, step.id)
      const lines = result.tests.map((test) => t(test.passed ? 'lab.testPassed' : 'lab.testFailed', { name: test.name }))
      const verdict = result.passed ? t('lab.passed', { n: index + 1 }) : t('lab.failed', { n: index + 1, status: result.status })
      output.textContent = [verdict, ...lines, result.output].filter(Boolean).join('\n')
      lab = await labs.get(labId)
      showSteps()
    } catch (error) {
      output.textContent = readable(error)
    } finally {
      checkButton.disabled = false
    }
  }

  async function ask(event: Event): Promise<void> {
    event.preventDefault()
    try {
      const made = await labs.ask(labId, lab?.steps[current()]?.id ?? null, note.value.trim())
      myRequest = made.id
      note.value = ''
      askButton.hidden = true
      withdrawButton.hidden = false
      queueState.textContent = t('lab.position', { position: made.position ?? 1 })
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  async function withdraw(): Promise<void> {
    if (myRequest === null) return
    try {
      await labs.resolve(labId, myRequest)
      await refreshHelp()
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  async function open(): Promise<void> {
    try {
      lab = await labs.get(labId)
      if (closed) return
      heading.textContent = lab.title
      document.title = t('app.titleSuffix', { title: lab.title })
      fill(instructions, h('h2#lab-instructions', null, t('lab.instructions')), safeHtml(lab.html))
      if (lab.status === 'draft') {
        problem.textContent = t('lab.notStarted')
        problem.hidden = false
        return
      }
      access = await labs.mine(labId)
      if (closed) return
      const base = yjsBase()
      const color = colorFor(user.id)
      doc = new RoomDoc({ name: access.document, url: base, token: access.token }, 'page', { id: user.id, name: user.name, color }, {
        denied: () => editor.setReadOnly(true),
        stopped: (code, reason) => {
          editor.setReadOnly(true)
          if (archived) return // the feed said why, in words
          problem.textContent = reason || String(code)
          problem.hidden = false
          editor.setReadOnly(true)
        },
        token: async () => (await labs.mine(labId)).token,
        status: (connected) => {
          connection.textContent = t(connected ? 'lab.connected' : 'lab.reconnecting')
        },
        freshTokenOnReconnect: true,
      })
      doc.provider.awareness.setLocalStateField('user', { id: user.id, name: user.name, color, colorLight: color.replace('40%)', '85%)') })
      fill(
        tabs,
        access.files.map((name) => h('button', { type: 'button', 'data-file': name, 'aria-pressed': 'false', onclick: () => openFile(name) }, name)),
      )
      openFile(lab.steps[current()]?.file ?? access.files[0] ?? 'main.py')
      showSteps()
      feed = new LabFeed(labId, onFeed)
    } catch (error) {
      problem.textContent = readable(error)
      problem.hidden = false
    }
  }

  void open()
  return {
    title: t('lab.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack.lab-page',
        null,
        h('p', null, h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('lab.back'))),
        heading,
        problem,
        banner,
        lockNote,
        sharedNote,
        instructions,
        h('section.stack', { 'aria-labelledby': 'lab-steps' }, h('h2#lab-steps', null, t('lab.steps')), steps),
        h(
          'section.stack',
          { 'aria-labelledby': 'lab-workspace' },
          h('h2#lab-workspace', null, t('lab.workspace')),
          connection,
          tabs,
          editor.root,
          h('div.row.wrap', null, runButton, checkButton),
          h('h3', null, t('lab.output')),
          output,
        ),
        h(
          'section.stack',
          { 'aria-labelledby': 'lab-help' },
          h('h2#lab-help', null, t('lab.ask')),
          queueState,
          h(
            'form.row.wrap',
            { onsubmit: (event: Event) => void ask(event) },
            h('div.field', null, h('label', { for: 'help-note' }, t('lab.askNote')), note),
            askButton,
          ),
          withdrawButton,
        ),
        sharedBox,
      ),
    ),
    destroy: () => {
      closed = true
      feed?.close()
      editor.destroy()
      doc?.destroy()
      closeShared()
    },
  }
}
