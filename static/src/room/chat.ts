// Chat: public, private and to-hosts messages; edit, delete, reactions, typing.

import { append, confirmDialog, fill, h, modal, readPref, Roving, writePref } from '../dom'
import { formatDateTime, formatList, formatNumber, formatTime, t } from '../i18n'
import { type RoomContext, run } from './context'
import type { ChatMessage } from './model'

const REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '👏']
const TYPING_SEND_EVERY_MS = 2500
const TYPING_SHOWN_MS = 4000

const MUTE_KEY = 'liveclass.chat.announce'

/** Whether new chat messages are announced to screen readers (a per-browser setting). */
export function chatAnnounced(): boolean {
  return readPref(MUTE_KEY) !== 'off'
}

function setChatAnnounced(on: boolean): void {
  writePref(MUTE_KEY, on ? 'on' : 'off') // storage off: the setting lasts until the page reloads
}

/** What a rendered message showed, to tell whether it must be drawn again. */
function version(message: ChatMessage, me: string, canReact: boolean, canChat: boolean, canModerate: boolean): string {
  return JSON.stringify([message.text, message.edited_at, message.deleted, message.reactions, me, canReact, canChat, canModerate])
}

export class ChatPanel {
  readonly el: HTMLElement
  private readonly list: HTMLElement
  private readonly empty: HTMLElement
  private readonly input: HTMLTextAreaElement
  private readonly target: HTMLSelectElement
  private readonly typingLine: HTMLElement
  private readonly disabledNote: HTMLElement
  private readonly sendButton: HTMLButtonElement
  private readonly rendered = new Map<string, { el: HTMLElement; version: string }>()
  private readonly roving: Roving
  private typing = new Map<string, { name: string; until: number }>()
  private lastTypingSent = 0
  private typingTimer = 0

  constructor(private readonly ctx: RoomContext) {
    // The log is not a live region: new messages are announced once by the room (also while
    // this tab is hidden), so re-drawing a message never makes a screen reader read it again.
    this.list = h('div.chat-list', { role: 'log', 'aria-label': t('chat.messages'), 'aria-live': 'off' })
    this.empty = h('p.muted.empty', null, t('chat.empty'))
    this.roving = new Roving(this.list, 'article.msg', 'vertical')
    this.list.addEventListener('focusin', (event) => this.activate((event.target as HTMLElement).closest('article.msg')))
    this.target = h('select#chat-to', null)
    this.input = h('textarea#chat-input', {
      rows: 2,
      maxlength: 4000,
      placeholder: t('chat.placeholder', { who: t('chat.everyone') }),
      'aria-label': t('chat.input'),
      'aria-keyshortcuts': 'Alt+C',
    })
    this.sendButton = h('button.primary', { type: 'submit' }, t('chat.send'))
    this.typingLine = h('div.typing.muted.small', { 'aria-hidden': 'true' })
    this.disabledNote = h('p.muted.small', { hidden: true }, t('chat.off'))
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault()
        void this.send()
      }
    })
    this.input.addEventListener('input', () => this.sendTyping())
    // On a phone the on-screen keyboard takes half the screen: keep the box in view.
    this.input.addEventListener('focus', () => window.setTimeout(() => this.input.scrollIntoView({ block: 'nearest' }), 300))
    this.target.addEventListener('change', () => this.updatePlaceholder())
    const announceBox = h('input', {
      type: 'checkbox',
      id: 'chat-announce',
      checked: chatAnnounced(),
      onchange: (event: Event) => setChatAnnounced((event.target as HTMLInputElement).checked),
    })
    const form = h(
      'form.chat-compose',
      {
        'aria-label': t('chat.compose'),
        onsubmit: (event: Event) => {
          event.preventDefault()
          void this.send()
        },
      },
      h('div.row.tight.wrap', null, h('label.small', { for: 'chat-to' }, t('chat.to')), this.target),
      h('div.row.tight.compose-row', null, this.input, this.sendButton),
      h('label.check.small', { for: 'chat-announce' }, announceBox, t('chat.announceSetting')),
    )
    this.el = h('section.panel.chat', { 'aria-label': t('chat.region') }, this.list, this.typingLine, this.disabledNote, form)
  }

  focusComposer(to?: string): void {
    if (to !== undefined) {
      this.renderTargets()
      this.target.value = to
      this.updatePlaceholder()
    }
    this.input.focus()
  }

  private updatePlaceholder(): void {
    const to = this.target.value
    const who = to === '' ? t('chat.everyone') : to === 'hosts' ? t('chat.theHosts') : this.ctx.model.name(to)
    this.input.placeholder = t('chat.placeholder', { who })
  }

  private async send(): Promise<void> {
    const text = this.input.value.trim()
    if (!text) return
    const to = this.target.value
    const reply = await run(this.ctx, { type: 'chat.send', text, ...(to ? { to } : {}) })
    if (reply) this.input.value = ''
    this.input.focus()
  }

  private sendTyping(): void {
    const now = Date.now()
    if (now - this.lastTypingSent < TYPING_SEND_EVERY_MS || !this.input.value) return
    this.lastTypingSent = now
    const to = this.target.value
    this.ctx.conn.cast({ type: 'chat.typing', ...(to ? { to } : {}) })
  }

  onTyping(userId: string, name: string): void {
    if (userId === this.ctx.model.me.user_id) return
    this.typing.set(userId, { name, until: Date.now() + TYPING_SHOWN_MS })
    this.renderTyping()
  }

  /** Who is typing, shown (not announced: it would interrupt on every burst of keys). */
  private renderTyping(): void {
    const now = Date.now()
    for (const [id, entry] of this.typing) if (entry.until <= now) this.typing.delete(id)
    const names = [...this.typing.values()].map((entry) => entry.name)
    this.typingLine.textContent = names.length === 0 ? '' : t('chat.typing', { count: names.length, names: formatList(names) })
    window.clearTimeout(this.typingTimer)
    if (names.length) this.typingTimer = window.setTimeout(() => this.renderTyping(), 1000)
  }

  renderTargets(): void {
    const model = this.ctx.model
    const current = this.target.value
    const others = [...model.participants.values()].filter((p) => p.user_id !== model.me.user_id)
    fill(
      this.target,
      h('option', { value: '' }, t('chat.to.everyone')),
      h('option', { value: 'hosts' }, t('chat.to.hosts')),
      others.map((p) => h('option', { value: p.user_id }, t('chat.to.person', { name: p.name }))),
    )
    this.target.value = [...this.target.options].some((o) => o.value === current) ? current : ''
    const canChat = model.can('chat')
    this.input.disabled = !canChat
    this.sendButton.disabled = !canChat
    this.target.disabled = !canChat
    this.disabledNote.hidden = canChat
    this.updatePlaceholder()
  }

  /**
   * Bring the list up to date with the model without re-creating it: new messages are
   * appended, changed ones (edited, deleted, reacted to) are replaced in place, keyboard
   * focus stays where it was.
   */
  render(): void {
    const model = this.ctx.model
    const nearBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80
    const me = model.me.user_id
    const grants = [model.can('react'), model.can('chat'), model.can('moderate')] as const
    const wanted = new Set(model.chat.map((message) => message.id))
    for (const [id, entry] of this.rendered) {
      if (!wanted.has(id)) {
        entry.el.remove()
        this.rendered.delete(id)
      }
    }
    if (!model.chat.length) {
      if (this.empty.parentElement !== this.list) this.list.replaceChildren(this.empty)
      return
    }
    this.empty.remove()
    let previous: Element | null = null
    for (const message of model.chat) {
      const v = version(message, me, ...grants)
      const found = this.rendered.get(message.id)
      let el = found?.el
      if (!found || found.version !== v) {
        const fresh = this.item(message)
        if (found) {
          const focusKey = (document.activeElement as HTMLElement | null)?.closest('article.msg') === found.el ? focusKeyOf(document.activeElement) : null
          fresh.tabIndex = found.el.tabIndex
          found.el.replaceWith(fresh)
          if (focusKey) (fresh.querySelector<HTMLElement>(`[data-focus-key="${focusKey}"]`) ?? fresh).focus()
        }
        this.rendered.set(message.id, { el: fresh, version: v })
        el = fresh
      }
      if (el && (el.parentElement !== this.list || el.previousElementSibling !== previous)) {
        if (previous) previous.after(el)
        else this.list.prepend(el)
      }
      previous = el ?? previous
    }
    this.roving.sync()
    this.activate(this.list.querySelector<HTMLElement>('article.msg[tabindex="0"]'))
    if (nearBottom) this.list.scrollTop = this.list.scrollHeight
  }

  /** One message is the list's Tab stop; only its own buttons are in the Tab order. */
  private activate(article: HTMLElement | null): void {
    if (!article) return
    for (const control of this.list.querySelectorAll<HTMLElement>('article.msg button, article.msg summary')) {
      control.tabIndex = control.closest('article.msg') === article ? 0 : -1
    }
  }

  scrollToEnd(): void {
    this.list.scrollTop = this.list.scrollHeight
  }

  /** The words a screen reader says for a new message (once, when it arrives). */
  announcement(message: ChatMessage): string {
    const model = this.ctx.model
    if (message.to_user_id) return t('chat.announce.private', { name: message.author_name, text: message.text })
    if (message.to_hosts) return t('chat.announce.hosts', { name: message.author_name, text: message.text })
    return t('chat.announce', { name: message.author_name, text: message.text, room: model.room.title })
  }

  private item(message: ChatMessage): HTMLElement {
    const model = this.ctx.model
    const me = model.me.user_id
    const mine = message.author_id === me
    let scope = ''
    if (message.to_user_id) {
      scope = mine ? t('chat.scope.privatelyTo', { name: model.name(message.to_user_id) }) : t('chat.scope.privatelyToYou')
    } else if (message.to_hosts) {
      scope = t('chat.scope.hosts')
    }
    const author = mine ? t('chat.you', { name: message.author_name }) : message.author_name
    const headId = `msg-${message.id}-head`
    const article = h('article.msg', {
      class: `msg${mine ? ' mine' : ''}${scope ? ' private' : ''}${message.deleted ? ' deleted' : ''}`,
      'data-message-id': message.id,
      'aria-labelledby': headId,
      tabindex: -1,
    })
    append(article, [
      h(
        'header.msg-head',
        { id: headId },
        h('strong', null, author),
        scope ? h('span.badge.private-badge', null, scope) : null,
        h('time.muted.small', { datetime: message.at }, formatTime(message.at)),
      ),
      message.deleted
        ? h('p.msg-text.muted', null, t('chat.deleted'))
        : h('p.msg-text', null, message.text, message.edited_at ? h('span.muted.small', null, ' ', t('chat.edited')) : null),
    ])
    if (message.deleted) return article
    const reactions = h('div.reactions', { role: 'group', 'aria-label': t('chat.reactions') })
    for (const [emoji, users] of Object.entries(message.reactions ?? {})) {
      if (!users.length) continue
      const pressed = users.includes(me)
      reactions.appendChild(
        h(
          'button.reaction',
          {
            type: 'button',
            'aria-pressed': String(pressed),
            'data-focus-key': `reaction-${emoji}`,
            title: formatList(users.map((id) => model.name(id))),
            onclick: () => void run(this.ctx, { type: 'chat.react', message_id: message.id, emoji, add: !pressed }),
          },
          `${emoji} ${formatNumber(users.length)}`,
        ),
      )
    }
    const actions = h('div.msg-actions')
    if (model.can('react')) {
      const picker = h(
        'details.react-picker',
        null,
        h('summary', { 'aria-label': t('chat.react'), title: t('chat.react.title'), 'data-focus-key': 'react' }, '☺+'),
        h(
          'div.react-choices',
          null,
          REACTIONS.map((emoji) =>
            h(
              'button',
              {
                type: 'button',
                'aria-label': t('chat.reactWith', { emoji }),
                onclick: () => void run(this.ctx, { type: 'chat.react', message_id: message.id, emoji, add: true }),
              },
              emoji,
            ),
          ),
        ),
      )
      actions.appendChild(picker)
    }
    if (mine && model.can('chat')) {
      actions.appendChild(h('button.link', { type: 'button', 'data-focus-key': 'edit', onclick: () => this.edit(message) }, t('chat.edit')))
    }
    if (mine || model.can('moderate')) {
      actions.appendChild(
        h(
          'button.link',
          {
            type: 'button',
            'data-focus-key': 'delete',
            onclick: async () => {
              if (await confirmDialog(t('chat.delete.title'), t('chat.delete.body'), t('chat.delete'), true)) {
                await run(this.ctx, { type: 'chat.delete', message_id: message.id })
              }
            },
          },
          t('chat.delete'),
        ),
      )
    }
    const authorId = message.author_id
    if (!mine && authorId && model.can('chat') && model.participants.has(authorId)) {
      actions.appendChild(h('button.link', { type: 'button', 'data-focus-key': 'reply', onclick: () => this.ctx.openChat(authorId) }, t('chat.replyPrivately')))
    }
    append(article, [reactions, actions])
    for (const control of article.querySelectorAll<HTMLElement>('button, summary')) control.tabIndex = -1
    return article
  }

  private edit(message: ChatMessage): void {
    const field = h('textarea', { rows: 4, maxlength: 4000, 'aria-label': t('chat.edit.field') })
    field.value = message.text
    const dialog = modal(
      t('chat.edit.title'),
      h(
        'form.stack',
        {
          onsubmit: async (event: Event) => {
            event.preventDefault()
            const text = field.value.trim()
            if (!text) return
            if (await run(this.ctx, { type: 'chat.edit', message_id: message.id, text })) dialog.close()
          },
        },
        field,
        h('div.row.end', null, h('button', { type: 'button', onclick: () => dialog.close() }, t('dialog.cancel')), h('button.primary', { type: 'submit' }, t('chat.edit.save'))),
      ),
    )
    field.focus()
  }
}

function focusKeyOf(el: Element | null): string | null {
  return el instanceof HTMLElement ? (el.dataset.focusKey ?? null) : null
}

/** The chat as a file: Markdown or CSV, for hosts' records. */
export function chatExport(messages: ChatMessage[], nameOf: (id: string) => string, format: 'md' | 'csv'): string {
  const visible = messages.filter((m) => !m.deleted)
  if (format === 'csv') {
    const cell = (text: string): string => {
      const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text
      return `"${safe.replace(/"/g, '""')}"`
    }
    const rows = visible.map((m) =>
      [m.at, m.author_name, m.to_user_id ? nameOf(m.to_user_id) : m.to_hosts ? 'hosts' : 'everyone', m.text, m.edited_at ?? ''].map(cell).join(','),
    )
    return ['"at","author","to","text","edited_at"', ...rows].join('\r\n') + '\r\n'
  }
  return visible
    .map((m) => {
      const to = m.to_user_id ? ` → ${nameOf(m.to_user_id)}` : m.to_hosts ? ` → ${t('chat.theHosts')}` : ''
      return `**${m.author_name}**${to} (${formatDateTime(m.at)}):\n\n${m.text}\n`
    })
    .join('\n')
}
