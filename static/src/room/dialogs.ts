// The room page's dialogs: inviting people (the room's link) and the keyboard shortcuts.

import { h, modal, toast } from '../dom'
import { type MessageKey, t } from '../i18n'

/** The room's link to copy, and who may use it. */
export function invite(roomId: string, open: boolean): void {
  const link = `${location.origin}/rooms/${roomId}`
  const input = h('input#invite-link', { value: link, readonly: true, onfocus: (e: Event) => (e.target as HTMLInputElement).select() })
  modal(
    t('invite.title'),
    h(
      'div.stack',
      null,
      h('p', null, t(open ? 'invite.open' : 'invite.closed')),
      h('label', { for: 'invite-link' }, t('invite.link')),
      h(
        'div.row.tight.wrap',
        null,
        input,
        h(
          'button.primary',
          {
            type: 'button',
            onclick: async () => {
              try {
                await navigator.clipboard.writeText(link)
                toast(t('invite.copied'), 'success')
              } catch {
                input.select()
                toast(t('invite.copyYourself'), 'info')
              }
            },
          },
          t('invite.copy'),
        ),
      ),
    ),
  )
}

/** The room's keyboard shortcuts (docs/accessibility.md lists the same). */
export const SHORTCUTS: [string, MessageKey][] = [
  ['Alt+C', 'shortcuts.chat'],
  ['Alt+H', 'shortcuts.hand'],
  ['Alt+M', 'shortcuts.mic'],
  ['Alt+V', 'shortcuts.camera'],
  ['Alt+K', 'shortcuts.controls'],
  ['Alt+P', 'shortcuts.people'],
  ['Alt+W', 'shortcuts.whiteboard'],
  ['Alt+N', 'shortcuts.notes'],
  ['Alt+L', 'shortcuts.leave'],
  ['Enter / Shift+Enter', 'shortcuts.send'],
  ['← → Home End', 'shortcuts.toolbars'],
  ['↑ ↓', 'shortcuts.messages'],
  ['V H P L A R O T S E', 'shortcuts.boardTools'],
  ['Ctrl+Z, Ctrl+Shift+Z', 'shortcuts.undo'],
  ['Esc', 'shortcuts.escape'],
  ['?', 'shortcuts.help'],
]

export function shortcuts(): void {
  modal(
    t('shortcuts.title'),
    h(
      'div.table-wrap',
      null,
      h(
        'table.table.shortcuts',
        null,
        h('caption.sr-only', null, t('shortcuts.title')),
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('shortcuts.keys')), h('th', { scope: 'col' }, t('shortcuts.action')))),
        h('tbody', null, SHORTCUTS.map(([key, what]) => h('tr', null, h('th', { scope: 'row' }, h('kbd', null, key)), h('td', null, t(what))))),
      ),
    ),
  )
}
