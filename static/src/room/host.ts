// Host controls: room settings, mute all, invitations, exports, end the class.

import * as api from '../api'
import { confirmDialog, download, fill, h, toast } from '../dom'
import { t } from '../i18n'
import { chatExport } from './chat'
import { type RoomContext, run } from './context'

const TOGGLES = ['locked', 'lobby', 'chat_enabled', 'whiteboard_locked', 'notes_locked'] as const

export class HostPanel {
  readonly el: HTMLElement
  private readonly settings: HTMLElement

  constructor(
    private readonly ctx: RoomContext,
    private readonly title: () => string,
  ) {
    this.settings = h('div.stack.tight', { role: 'group', 'aria-label': t('host.settings') })
    const email = h('input', { id: 'invite-email', type: 'email', required: true, placeholder: t('host.invite.placeholder') })
    const role = h(
      'select',
      { id: 'invite-role', 'aria-label': t('host.invite.role') },
      (['participant', 'presenter', 'observer', 'co-host'] as const).map((value) => h('option', { value }, t(`roomRole.label.${value}`))),
    )
    const invite = h(
      'form.stack.tight',
      {
        onsubmit: async (event: Event) => {
          event.preventDefault()
          try {
            await api.rooms.invite(ctx.roomId, email.value.trim(), role.value as api.RoomRole)
            toast(t('host.invite.done', { email: email.value.trim() }), 'success')
            email.value = ''
          } catch (error) {
            toast(error instanceof api.ApiError ? error.readable : t('host.invite.failed'), 'error')
          }
        },
      },
      h('h3', null, t('host.invite.title')),
      h('p.muted.small', null, t('host.invite.hint')),
      h('div.row.tight', null, h('label.sr-only', { for: 'invite-email' }, t('host.invite.email')), email, role, h('button', { type: 'submit' }, t('host.invite.submit'))),
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
      h('label', { for: 'slow-mode' }, t('host.slow')),
      slow,
      h('button', { type: 'submit' }, t('host.slow.set')),
    )
    this.el = h(
      'section.panel.host',
      { 'aria-label': t('host.region') },
      h('h3', null, t('host.room')),
      this.settings,
      slowForm,
      h('p#slow-hint.muted.small', null, t('host.slow.hint')),
      h(
        'div.row.wrap',
        null,
        h('button', { type: 'button', onclick: () => void run(this.ctx, { type: 'room.mute_all' }) }, t('host.muteAll')),
      ),
      invite,
      h('h3', null, t('host.records')),
      h(
        'div.row.wrap',
        null,
        h('a.button', { href: `/rooms/${ctx.roomId}/report`, target: '_blank', rel: 'noopener' }, t('home.attendance')),
        h('button', { type: 'button', onclick: () => this.exportChat('csv') }, t('host.exportCsv')),
        h('button', { type: 'button', onclick: () => this.exportChat('md') }, t('host.exportMd')),
      ),
      h('h3', null, t('host.end')),
      h(
        'button.danger',
        {
          type: 'button',
          onclick: async () => {
            if (await confirmDialog(t('host.end.title'), t('host.end.body'), t('host.end.confirm'), true)) {
              await run(this.ctx, { type: 'room.end' })
            }
          },
        },
        t('host.end.button'),
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
      TOGGLES.map((key) => {
        const id = `setting-${key}`
        const input = h('input', {
          id,
          type: 'checkbox',
          role: 'switch',
          checked: Boolean(settings[key] ?? key === 'chat_enabled'),
          'aria-describedby': `${id}-hint`,
          onchange: (event: Event) => {
            const value = (event.target as HTMLInputElement).checked
            void run(this.ctx, { type: 'room.settings', [key]: value })
          },
        })
        return h('div.setting', null, h('label.check', { for: id }, input, t(`host.setting.${key}`)), h('small.muted', { id: `${id}-hint` }, t(`host.setting.${key}.hint`)))
      }),
    )
    const slow = this.el.querySelector<HTMLInputElement>('#slow-mode')
    if (slow && document.activeElement !== slow) slow.value = String(settings.slow_mode_seconds ?? 0)
  }
}
