// Chat: public, private and to-hosts messages; edit, delete, reactions, typing.

import { append, confirmDialog, fill, formatTime, h, modal } from '../dom'
import { type RoomContext, run } from './context'
import type { ChatMessage } from './model'

const REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '👏']
const TYPING_SEND_EVERY_MS = 2500
const TYPING_SHOWN_MS = 4000

export class ChatPanel {
  readonly el: HTMLElement
  private readonly list: HTMLElement
  private readonly input: HTMLTextAreaElement
  private readonly target: HTMLSelectElement
  private readonly typingLine: HTMLElement
  private readonly disabledNote: HTMLElement
  private readonly sendButton: HTMLButtonElement
  private typing = new Map<string, { name: string; until: number }>()
  private lastTypingSent = 0
  private typingTimer = 0

  constructor(private readonly ctx: RoomContext) {
    this.list = h('div.chat-list', { role: 'log', 'aria-label': 'Chat messages', 'aria-live': 'polite', tabindex: 0 })
    this.target = h('select#chat-to', { 'aria-label': 'Send to' })
    this.input = h('textarea#chat-input', {
      rows: 2,
      maxlength: 4000,
      placeholder: 'Message everyone (Enter to send, Shift+Enter for a new line)',
      'aria-label': 'Chat message',
    })
    this.sendButton = h('button.primary', { type: 'submit' }, 'Send')
    this.typingLine = h('div.typing.muted.small', { 'aria-live': 'polite' })
    this.disabledNote = h('p.muted.small', { hidden: true }, 'Chat is turned off by the host.')
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault()
        void this.send()
      }
    })
    this.input.addEventListener('input', () => this.sendTyping())
    this.target.addEventListener('change', () => this.updatePlaceholder())
    const form = h(
      'form.chat-compose',
      {
        'aria-label': 'Send a message',
        onsubmit: (event: Event) => {
          event.preventDefault()
          void this.send()
        },
      },
      h('div.row.tight', null, h('label.small', { for: 'chat-to' }, 'To'), this.target),
      h('div.row.tight', null, this.input, this.sendButton),
    )
    this.el = h('section.panel.chat', { 'aria-label': 'Chat' }, this.list, this.typingLine, this.disabledNote, form)
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
    const who = to === '' ? 'everyone' : to === 'hosts' ? 'the hosts' : this.ctx.model.name(to)
    this.input.placeholder = `Message ${who} (Enter to send, Shift+Enter for a new line)`
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

  private renderTyping(): void {
    const now = Date.now()
    for (const [id, entry] of this.typing) if (entry.until <= now) this.typing.delete(id)
    const names = [...this.typing.values()].map((entry) => entry.name)
    this.typingLine.textContent = names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : `${names.join(', ')} are typing…`
    window.clearTimeout(this.typingTimer)
    if (names.length) this.typingTimer = window.setTimeout(() => this.renderTyping(), 1000)
  }

  renderTargets(): void {
    const model = this.ctx.model
    const current = this.target.value
    const others = [...model.participants.values()].filter((p) => p.user_id !== model.me.user_id)
    fill(
      this.target,
      h('option', { value: '' }, 'Everyone'),
      h('option', { value: 'hosts' }, 'Hosts only'),
      others.map((p) => h('option', { value: p.user_id }, `${p.name} (privately)`)),
    )
    this.target.value = [...this.target.options].some((o) => o.value === current) ? current : ''
    const canChat = model.can('chat')
    this.input.disabled = !canChat
    this.sendButton.disabled = !canChat
    this.target.disabled = !canChat
    this.disabledNote.hidden = canChat
    this.updatePlaceholder()
  }

  render(): void {
    const model = this.ctx.model
    const nearBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80
    if (!model.chat.length) {
      fill(this.list, h('p.muted.empty', null, 'No messages yet. Say hello!'))
      return
    }
    fill(this.list, model.chat.map((message) => this.item(message)))
    if (nearBottom) this.list.scrollTop = this.list.scrollHeight
  }

  scrollToEnd(): void {
    this.list.scrollTop = this.list.scrollHeight
  }

  private item(message: ChatMessage): HTMLElement {
    const model = this.ctx.model
    const me = model.me.user_id
    const mine = message.author_id === me
    let scope = ''
    if (message.to_user_id) {
      scope = mine ? `privately to ${model.name(message.to_user_id)}` : 'privately to you'
    } else if (message.to_hosts) {
      scope = 'to hosts'
    }
    const article = h('article.msg', {
      class: `msg${mine ? ' mine' : ''}${scope ? ' private' : ''}${message.deleted ? ' deleted' : ''}`,
      'data-message-id': message.id,
      'aria-label': `${message.author_name}${scope ? `, ${scope}` : ''}, ${formatTime(message.at)}`,
    })
    append(article, [
      h(
        'header.msg-head',
        null,
        h('strong', null, mine ? `${message.author_name} (you)` : message.author_name),
        scope ? h('span.badge.private-badge', null, scope) : null,
        h('time.muted.small', { datetime: message.at }, formatTime(message.at)),
      ),
      message.deleted
        ? h('p.msg-text.muted', null, 'Message deleted')
        : h('p.msg-text', null, message.text, message.edited_at ? h('span.muted.small', null, ' (edited)') : null),
    ])
    if (message.deleted) return article
    const reactions = h('div.reactions', { role: 'group', 'aria-label': 'Reactions' })
    for (const [emoji, users] of Object.entries(message.reactions ?? {})) {
      if (!users.length) continue
      const pressed = users.includes(me)
      reactions.appendChild(
        h(
          'button.reaction',
          {
            type: 'button',
            'aria-pressed': String(pressed),
            'aria-label': `${emoji} ${users.length}, ${pressed ? 'remove my reaction' : 'react'}`,
            title: users.map((id) => model.name(id)).join(', '),
            onclick: () => void run(this.ctx, { type: 'chat.react', message_id: message.id, emoji, add: !pressed }),
          },
          `${emoji} ${users.length}`,
        ),
      )
    }
    const actions = h('div.msg-actions')
    if (model.can('react')) {
      const picker = h(
        'details.react-picker',
        null,
        h('summary', { 'aria-label': 'Add a reaction', title: 'React' }, '☺+'),
        h(
          'div.react-choices',
          null,
          REACTIONS.map((emoji) =>
            h(
              'button',
              {
                type: 'button',
                'aria-label': `React ${emoji}`,
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
      actions.appendChild(h('button.link', { type: 'button', onclick: () => this.edit(message) }, 'Edit'))
    }
    if (mine || model.can('moderate')) {
      actions.appendChild(
        h(
          'button.link',
          {
            type: 'button',
            onclick: async () => {
              if (await confirmDialog('Delete message?', 'Everyone will see that a message was deleted.', 'Delete', true)) {
                await run(this.ctx, { type: 'chat.delete', message_id: message.id })
              }
            },
          },
          'Delete',
        ),
      )
    }
    const author = message.author_id
    if (!mine && author && model.can('chat') && model.participants.has(author)) {
      actions.appendChild(h('button.link', { type: 'button', onclick: () => this.ctx.openChat(author) }, 'Reply privately'))
    }
    append(article, [reactions, actions])
    return article
  }

  private edit(message: ChatMessage): void {
    const field = h('textarea', { rows: 4, maxlength: 4000, 'aria-label': 'Edited message' })
    field.value = message.text
    const dialog = modal(
      'Edit message',
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
        h('div.row.end', null, h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'), h('button.primary', { type: 'submit' }, 'Save')),
      ),
    )
    field.focus()
  }
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
      const to = m.to_user_id ? ` → ${nameOf(m.to_user_id)}` : m.to_hosts ? ' → hosts' : ''
      return `**${m.author_name}**${to} (${new Date(m.at).toLocaleString()}):\n\n${m.text}\n`
    })
    .join('\n')
}
