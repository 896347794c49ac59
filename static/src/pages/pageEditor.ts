// A course page's editor: the room notes' collaborative Markdown editor (CodeMirror 6 and
// y-codemirror.next over the stock y-websocket provider) on the page's live draft, who
// else is editing, and Publish. TAs read the draft; editor tokens are renewed on reconnect.

import * as api from '../api'
import { announce, colorFor, confirmDialog, h, toast } from '../dom'
import { RoomDoc } from '../collab'
import { formatDateTime, formatList, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { NotesEditor } from '../notes'
import { topbar } from './shell'

function readable(error: unknown): string {
  return error instanceof api.ApiError ? error.readable : error instanceof Error ? error.message : String(error)
}

export function pageEditorPage(courseId: string, pageId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', null, t('pageEditor.title'))
  const others = h('p', { role: 'status', 'data-testid': 'co-editors' }, t('pageEditor.alone'))
  const published = h('p', { role: 'status', 'data-testid': 'published-status' })
  const connection = h('p.small.muted', { 'data-testid': 'connection' })
  const problem = h('p.error', { role: 'alert', hidden: true })
  const editor = new NotesEditor(() => heading.textContent ?? 'page', {
    region: t('pageEditor.region'),
    editor: t('pageEditor.editor'),
    placeholder: t('pageEditor.placeholder'),
  })
  const publish = h('button.primary', { type: 'button', hidden: true, onclick: () => void doPublish() }, t('pageEditor.publish'))
  const unpublish = h('button', { type: 'button', hidden: true, onclick: () => void doUnpublish() }, t('pageEditor.unpublish'))
  const rename = h('input#page-title', { maxlength: 200, required: true, autocomplete: 'off' }) as HTMLInputElement
  const manage = h(
    'details.disclosure',
    { hidden: true },
    h('summary', null, t('pageEditor.manage')),
    h(
      'form.stack',
      {
        onsubmit: async (event: Event) => {
          event.preventDefault()
          try {
            const page = await api.content.renamePage(pageId, rename.value.trim())
            heading.textContent = t('pageEditor.heading', { title: page.title })
            announce(t('pageEditor.renamed', { title: page.title }))
          } catch (error) {
            toast(readable(error), 'error')
          }
        },
      },
      h('div.field', null, h('label', { for: 'page-title' }, t('pageEditor.rename')), rename),
      h('button', { type: 'submit' }, t('pageEditor.renameSubmit')),
    ),
    h('button.danger', { type: 'button', onclick: () => void doDelete() }, t('pageEditor.delete')),
  )
  const actions = h('div.row.wrap', null, publish, unpublish, h('a.button', { href: `/courses/${courseId}/pages/${pageId}`, 'data-link': '' }, t('pageEditor.view')))
  let doc: RoomDoc | null = null
  let closed = false
  let reopenedAt = 0

  let writable = false

  function showPublished(when: string | null): void {
    published.textContent = when ? t('pageEditor.publishedAt', { when: formatDateTime(when) }) : t('pageEditor.notPublished')
    unpublish.hidden = !writable || !when
  }

  async function doUnpublish(): Promise<void> {
    try {
      const page = await api.content.unpublish(pageId)
      showPublished(page.published_at)
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  async function doDelete(): Promise<void> {
    if (!(await confirmDialog(t('pageEditor.delete'), t('pageEditor.deleteConfirm'), t('pageEditor.delete'), true))) return
    try {
      await api.content.deletePage(pageId)
      announce(t('pageEditor.deleted'))
      navigate(`/courses/${courseId}`)
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  async function doPublish(): Promise<void> {
    publish.disabled = true
    try {
      await doc?.flushed()
      const page = await api.content.publish(pageId)
      showPublished(page.published_at)
    } catch (error) {
      problem.textContent = readable(error)
      problem.hidden = false
    } finally {
      publish.disabled = false
    }
  }

  function showOthers(): void {
    if (!doc) return
    const awareness = doc.provider.awareness
    const names = new Map<string, string>()
    for (const [client, state] of awareness.getStates()) {
      const person = (state as { user?: { id?: string; name?: string } }).user
      if (client === awareness.clientID || !person?.id || !person.name || person.id === user.id) continue
      names.set(person.id, person.name)
    }
    const text = names.size ? t('pageEditor.others', { names: formatList([...names.values()]) }) : t('pageEditor.alone')
    if (others.textContent !== text) others.textContent = text
  }

  async function open(): Promise<void> {
    try {
      const [page, access] = await Promise.all([api.content.page(pageId), api.content.editor(pageId)])
      if (closed) return
      heading.textContent = t('pageEditor.heading', { title: page.title })
      document.title = t('app.titleSuffix', { title: heading.textContent })
      writable = access.writable
      showPublished(page.published_at)
      publish.hidden = !access.writable
      manage.hidden = !access.writable
      rename.value = page.title
      const color = colorFor(user.id)
      doc = new RoomDoc({ name: access.document, url: access.url, token: access.token }, 'page', { id: user.id, name: user.name, color }, {
        denied: (reason) => editor.setReadOnly(true, reason),
        stopped: (code, reason) => {
          // A course role changed: the next token carries the new one (once in a while, so
          // a refusal at every connect does not loop).
          if (code === 4003 && !closed && Date.now() - reopenedAt > 30_000) {
            reopenedAt = Date.now()
            doc?.destroy()
            doc = null
            editor.setReadOnly(true, t('pageEditor.closed'))
            announce(t('pageEditor.reopening'))
            void open()
            return
          }
          problem.textContent = t('pageEditor.stopped', { reason: reason || String(code) })
          problem.hidden = false
          editor.setReadOnly(true, t('pageEditor.closed'))
        },
        token: async () => (await api.content.editor(pageId)).token,
        status: (connected) => {
          connection.textContent = t(connected ? 'pageEditor.connected' : 'pageEditor.reconnecting')
        },
        // Editor tokens last ten minutes: every reconnection asks for a fresh one.
        freshTokenOnReconnect: true,
      })
      doc.provider.awareness.setLocalStateField('user', { id: user.id, name: user.name, color, colorLight: color.replace('40%)', '85%)') })
      doc.provider.awareness.on('change', showOthers)
      editor.attach(doc)
      editor.setReadOnly(!access.writable, access.writable ? '' : t('pageEditor.readOnly'))
    } catch (error) {
      problem.textContent = readable(error)
      problem.hidden = false
    }
  }

  heading.tabIndex = -1
  void open()
  return {
    title: t('pageEditor.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack.page-editor',
        null,
        h('p', null, h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('coursePage.back'))),
        heading,
        others,
        actions,
        published,
        manage,
        problem,
        connection,
        editor.root,
      ),
    ),
    destroy: () => {
      closed = true
      editor.destroy()
      doc?.destroy()
    },
  }
}
