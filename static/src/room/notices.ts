// Notices above the class: the breakout room banner, a host's broadcast, a request to
// unmute, and toasts saying what a change of the room's settings means for this person.

import { fill, h, toast } from '../dom'
import type { Navigate } from '../main'
import { remaining } from './breakouts'
import type { RoomModel } from './model'
import type { SettingsChanges } from './protocol.gen'

export class Notices {
  readonly el = h('div.notices', { 'aria-live': 'polite' })

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
          h('span.grow', null, `Breakout rooms are open. You are in “${mine.name}”.`, b.ends_at ? ` Time left: ${remaining(b.ends_at)}` : ''),
          h('button.primary.small', { type: 'button', onclick: () => this.navigate(`/rooms/${mine.id}`) }, `Join ${mine.name}`),
        ),
      )
    }
    if (model.room.parent_id) {
      items.push(
        h(
          'div.notice.info',
          null,
          h('span.grow', null, 'You are in a breakout room.'),
          h('button.small', { type: 'button', onclick: () => this.navigate(`/rooms/${model.room.parent_id}`) }, 'Return to the main room'),
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
      h('span.grow', null, `📣 ${name}: ${text}`),
      h('button.icon', { type: 'button', 'aria-label': 'Dismiss', onclick: () => note.remove() }, '×'),
    )
    this.el.appendChild(note)
  }

  /** A host asks this person to unmute: ``unmute`` if they agree. */
  askUnmute(unmute: () => void): void {
    const note = h(
      'div.notice.keep.info',
      { role: 'alert' },
      h('span.grow', null, 'A host asks you to unmute your microphone.'),
      h(
        'button.primary.small',
        {
          type: 'button',
          onclick: () => {
            note.remove()
            unmute()
          },
        },
        'Unmute',
      ),
      h('button.small', { type: 'button', onclick: () => note.remove() }, 'Not now'),
    )
    this.el.appendChild(note)
  }
}

/** Tell a participant (not a host: they made the change) what changed for them. */
export function announceSettings(model: RoomModel, changes: SettingsChanges): void {
  if (model.amHost) return
  const said: string[] = []
  if ('locked' in changes) said.push(changes.locked ? 'The host locked the room.' : 'The host unlocked the room.')
  if ('whiteboard_locked' in changes) said.push(changes.whiteboard_locked ? 'The whiteboard is now read-only.' : 'You can draw on the whiteboard again.')
  if ('notes_locked' in changes) said.push(changes.notes_locked ? 'The notes are now read-only.' : 'You can edit the notes again.')
  if ('chat_enabled' in changes) said.push(changes.chat_enabled ? 'Chat is on.' : 'The host turned chat off.')
  for (const text of said) toast(text, 'info')
}
