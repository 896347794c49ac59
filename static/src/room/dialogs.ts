// The room page's dialogs: inviting people (the room's link) and the keyboard shortcuts.

import { h, modal, toast } from '../dom'

/** The room's link to copy, and who may use it. */
export function invite(roomId: string, open: boolean): void {
  const link = `${location.origin}/rooms/${roomId}`
  const input = h('input', { value: link, readonly: true, 'aria-label': 'Room link', onfocus: (e: Event) => (e.target as HTMLInputElement).select() })
  modal(
    'Invite people',
    h(
      'div.stack',
      null,
      h('p', null, open ? 'Anyone signed in with this link can join.' : 'Only invited people can join this room: hosts can invite by email in the Host tab.'),
      h(
        'div.row.tight',
        null,
        input,
        h(
          'button.primary',
          {
            type: 'button',
            onclick: async () => {
              try {
                await navigator.clipboard.writeText(link)
                toast('Link copied.', 'success')
              } catch {
                input.select()
                toast('Select the link and copy it (Ctrl+C).', 'info')
              }
            },
          },
          'Copy link',
        ),
      ),
    ),
  )
}

export function shortcuts(): void {
  const rows: [string, string][] = [
    ['Alt+H', 'Raise or lower your hand'],
    ['Alt+C', 'Open the chat and start typing'],
    ['Alt+M', 'Microphone on/off'],
    ['Alt+W', 'Show the whiteboard'],
    ['Alt+N', 'Show the notes'],
    ['Enter / Shift+Enter', 'Send a chat message / new line'],
    ['V H P L A R O T S E', 'Whiteboard tools (when the board has focus)'],
    ['Ctrl+Z, Ctrl+Shift+Z', 'Undo, redo your own whiteboard or notes edits'],
    ['?', 'This help'],
  ]
  modal(
    'Keyboard shortcuts',
    h('table.table', null, h('tbody', null, rows.map(([key, what]) => h('tr', null, h('th', { scope: 'row' }, h('kbd', null, key)), h('td', null, what))))),
  )
}
