// The room page's dialogs: inviting people (the room's link) and the keyboard shortcuts.

import { h, modal, toast } from '../dom'
import { type MessageKey, t } from '../i18n'
import { boardShortcuts } from '../whiteboard/keys'

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

/** The room's keyboard shortcuts (docs/accessibility.md lists the same); the whiteboard's own
 *  keys come from its list (boardShortcuts) and are shown after these. */
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
  ['Ctrl+Z, Ctrl+Shift+Z', 'shortcuts.undo'],
  ['Esc', 'shortcuts.escape'],
  ['?', 'shortcuts.help'],
]

const KEY_NAMES: Record<string, MessageKey> = {
  Ctrl: 'keys.ctrl',
  Shift: 'keys.shift',
  Alt: 'keys.alt',
  Enter: 'keys.enter',
  Esc: 'keys.esc',
  Home: 'keys.home',
  End: 'keys.end',
}

/** A key chord as this language's keyboards name the keys ("Strg+Z" in German). */
export function keyLabel(keys: string): string {
  return keys.replace(/\b(Ctrl|Shift|Alt|Enter|Esc|Home|End)\b/g, (name) => t(KEY_NAMES[name]))
}

export function shortcuts(): void {
  const room: [string, string][] = SHORTCUTS.map(([keys, what]) => [keyLabel(keys), t(what)])
  modal(
    t('shortcuts.title'),
    h('div.stack', null, keysTable(t('shortcuts.title'), room), h('h3', null, t('whiteboard.keys.title')), keysTable(t('whiteboard.keys.title'), boardShortcuts().map(([keys, what]) => [keyLabel(keys), what]))),
  )
}

/** A table of [keys, what they do], named by ``caption`` for screen readers. */
function keysTable(caption: string, rows: [string, string][]): HTMLElement {
  return h(
    'div.table-wrap',
    null,
    h(
      'table.table.shortcuts',
      null,
      h('caption.sr-only', null, caption),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('shortcuts.keys')), h('th', { scope: 'col' }, t('shortcuts.action')))),
      h('tbody', null, rows.map(([keys, what]) => h('tr', null, h('th', { scope: 'row' }, h('kbd', null, keys)), h('td', null, what)))),
    ),
  )
}
