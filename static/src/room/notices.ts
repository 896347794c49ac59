// Notices above the class: the breakout room banner, a host's broadcast, a request to
// unmute, and toasts saying what a change of the room's settings means for this person.

import { fill, h, toast } from '../dom'
import { t } from '../i18n'
import type { Navigate } from '../main'
import { remaining } from './breakouts'
import type { RoomModel } from './model'
import type { SettingsChanges } from './protocol.gen'

export class Notices {
  readonly el = h('div.notices', { role: 'region', 'aria-label': t('notices.label'), 'aria-live': 'polite' })

  constructor(private readonly navigate: Navigate) {}

  /** The breakout banners from the model (kept notices, such as broadcasts, stay). */
  render(model: RoomModel): void {
    const items: HTMLElement[] = []
    const mine = model.myBreakout()
    const b = model.breakouts
    if (!model.room.parent_id && mine && b) {
      items.push(
        h(
          'div.notice.info',
          { 'data-testid': 'breakout-notice' },
          h('span.grow', null, t('notices.breakout', { name: mine.name }), b.ends_at ? ` ${t('breakouts.timeLeft', { time: remaining(b.ends_at) })}` : ''),
          h('button.primary.small', { type: 'button', onclick: () => this.navigate(`/rooms/${mine.id}`) }, t('breakouts.join', { name: mine.name })),
        ),
      )
    }
    if (model.room.parent_id) {
      items.push(
        h(
          'div.notice.info',
          null,
          h('span.grow', null, t('notices.inBreakout')),
          h('button.small', { type: 'button', onclick: () => this.navigate(`/rooms/${model.room.parent_id}`) }, t('breakouts.return')),
        ),
      )
    }
    const existing = [...this.el.querySelectorAll<HTMLElement>('.notice.keep')]
    fill(this.el, items, existing)
  }

  /** A host's message to every breakout room, until dismissed. */
  broadcast(name: string, text: string): void {
    const note = h(
      'div.notice.keep.warn',
      { role: 'alert', 'data-testid': 'broadcast' },
      h('span.grow', null, h('span', { 'aria-hidden': 'true' }, '📣 '), t('notices.broadcast', { name, text })),
      h('button.icon', { type: 'button', 'aria-label': t('toast.dismiss'), title: t('toast.dismiss'), onclick: () => note.remove() }, '×'),
    )
    this.el.appendChild(note)
  }

  /** A host asks this person to unmute: ``unmute`` if they agree. */
  askUnmute(unmute: () => void): void {
    const note = h(
      'div.notice.keep.info',
      { role: 'alert' },
      h('span.grow', null, t('notices.askUnmute')),
      h(
        'button.primary.small',
        {
          type: 'button',
          onclick: () => {
            note.remove()
            unmute()
          },
        },
        t('notices.unmute'),
      ),
      h('button.small', { type: 'button', onclick: () => note.remove() }, t('notices.notNow')),
    )
    this.el.appendChild(note)
  }
}

/** Tell a participant (not a host: they made the change) what changed for them. */
export function announceSettings(model: RoomModel, changes: SettingsChanges): void {
  if (model.amHost) return
  const said: string[] = []
  if ('locked' in changes) said.push(t(changes.locked ? 'settings.locked' : 'settings.unlocked'))
  if ('whiteboard_locked' in changes) said.push(t(changes.whiteboard_locked ? 'settings.boardLocked' : 'settings.boardUnlocked'))
  if ('notes_locked' in changes) said.push(t(changes.notes_locked ? 'settings.notesLocked' : 'settings.notesUnlocked'))
  if ('chat_enabled' in changes) said.push(t(changes.chat_enabled ? 'settings.chatOn' : 'settings.chatOff'))
  for (const text of said) toast(text, 'info')
}
