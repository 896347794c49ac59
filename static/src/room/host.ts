// Host controls: room settings, mute all, invitations, exports, end the class.

import * as api from '../api'
import { confirmDialog, download, fill, h, toast } from '../dom'
import { chatExport } from './chat'
import { type RoomContext, run } from './context'

const TOGGLES: { key: string; label: string; hint: string }[] = [
  { key: 'locked', label: 'Lock room', hint: 'Nobody new gets in (people who were here can come back).' },
  { key: 'lobby', label: 'Waiting room', hint: 'People who are not invited wait until a host admits them.' },
  { key: 'chat_enabled', label: 'Chat on', hint: 'Participants may write in the chat.' },
  { key: 'whiteboard_locked', label: 'Lock whiteboard', hint: 'Only hosts may draw.' },
  { key: 'notes_locked', label: 'Lock notes', hint: 'Only hosts may edit the shared notes.' },
]

export class HostPanel {
  readonly el: HTMLElement
  private readonly settings: HTMLElement

  constructor(
    private readonly ctx: RoomContext,
    private readonly title: () => string,
  ) {
    this.settings = h('div.stack.tight', { role: 'group', 'aria-label': 'Room settings' })
    const email = h('input', { id: 'invite-email', type: 'email', required: true, placeholder: 'student@school.org' })
    const role = h(
      'select',
      { id: 'invite-role', 'aria-label': 'Role for the invitation' },
      h('option', { value: 'participant' }, 'Participant'),
      h('option', { value: 'presenter' }, 'Presenter'),
      h('option', { value: 'observer' }, 'Observer'),
      h('option', { value: 'co-host' }, 'Co-host'),
    )
    const invite = h(
      'form.stack.tight',
      {
        onsubmit: async (event: Event) => {
          event.preventDefault()
          try {
            await api.rooms.invite(ctx.roomId, email.value.trim(), role.value as api.RoomRole)
            toast(`Invited ${email.value.trim()}`, 'success')
            email.value = ''
          } catch (error) {
            toast(error instanceof api.ApiError ? error.readable : 'Could not invite.', 'error')
          }
        },
      },
      h('h3', null, 'Invite by email'),
      h('p.muted.small', null, 'They need a liveclass account with this email.'),
      h('div.row.tight', null, h('label.sr-only', { for: 'invite-email' }, 'Email'), email, role, h('button', { type: 'submit' }, 'Invite')),
    )
    const slow = h('input', { id: 'slow-mode', type: 'number', min: 0, max: 3600, value: 0, 'aria-describedby': 'slow-hint' })
    const slowForm = h(
      'form.row.tight',
      {
        onsubmit: (event: Event) => {
          event.preventDefault()
          void run(this.ctx, { type: 'room.settings', slow_mode_seconds: Number(slow.value) || 0 })
        },
      },
      h('label', { for: 'slow-mode' }, 'Slow mode (seconds between messages)'),
      slow,
      h('button', { type: 'submit' }, 'Set'),
    )
    this.el = h(
      'section.panel.host',
      { 'aria-label': 'Host controls' },
      h('h3', null, 'Room'),
      this.settings,
      slowForm,
      h('p.muted.small#slow-hint', null, '0 turns slow mode off.'),
      h(
        'div.row.wrap',
        null,
        h('button', { type: 'button', onclick: () => void run(this.ctx, { type: 'room.mute_all' }) }, 'Mute everyone'),
      ),
      invite,
      h('h3', null, 'Records'),
      h(
        'div.row.wrap',
        null,
        h('a.button', { href: `/rooms/${ctx.roomId}/report`, target: '_blank', rel: 'noopener' }, 'Attendance'),
        h('button', { type: 'button', onclick: () => this.exportChat('csv') }, 'Export chat (CSV)'),
        h('button', { type: 'button', onclick: () => this.exportChat('md') }, 'Export chat (Markdown)'),
      ),
      h('h3', null, 'End'),
      h(
        'button.danger',
        {
          type: 'button',
          onclick: async () => {
            if (await confirmDialog('End the class for everyone?', 'Everyone leaves the room and nobody can join it again.', 'End for all', true)) {
              await run(this.ctx, { type: 'room.end' })
            }
          },
        },
        'End class for everyone',
      ),
    )
  }

  private exportChat(format: 'csv' | 'md'): void {
    const model = this.ctx.model
    const name = this.title().replace(/[^\w-]+/g, '-').replace(/^-|-$/g, '') || 'room'
    download(`${name}-chat.${format}`, chatExport(model.chat, (id) => model.name(id), format), format === 'csv' ? 'text/csv' : 'text/markdown')
  }

  render(): void {
    const settings = this.ctx.model.room.settings
    fill(
      this.settings,
      TOGGLES.map((toggle) => {
        const id = `setting-${toggle.key}`
        const input = h('input', {
          id,
          type: 'checkbox',
          role: 'switch',
          checked: Boolean(settings[toggle.key] ?? (toggle.key === 'chat_enabled')),
          'aria-describedby': `${id}-hint`,
          onchange: (event: Event) => {
            const value = (event.target as HTMLInputElement).checked
            void run(this.ctx, { type: 'room.settings', [toggle.key]: value })
          },
        })
        return h('div.setting', null, h('label.check', { for: id }, input, toggle.label), h('small.muted', { id: `${id}-hint` }, toggle.hint))
      }),
    )
    const slow = this.el.querySelector<HTMLInputElement>('#slow-mode')
    if (slow && document.activeElement !== slow) slow.value = String(settings.slow_mode_seconds ?? 0)
  }
}
