// The room page from the keyboard: the Alt shortcuts (hand, chat, microphone, camera,
// controls, people, whiteboard, notes, leave), "?" for the list of them, and the page's
// skip links to the chat and the controls.

import { confirmDialog, h, typingInField } from '../dom'
import { t } from '../i18n'
import type { RoomContext } from './context'
import { shortcuts } from './dialogs'
import type { RoomDocs } from './docs'
import type { Layout } from './layout'
import type { MediaClient } from './media'

export interface KeyParts {
  ctx: RoomContext
  media: MediaClient
  docs: RoomDocs
  layout(): Layout | null
}

/** The room's keydown listener for ``document``. */
export function roomKeys({ ctx, media, docs, layout: current }: KeyParts): (event: KeyboardEvent) => void {
  return (event) => {
    const layout = current()
    if (!layout) return
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      const actions: Record<string, () => void> = {
        KeyH: () => void layout.controls.toggleHand(),
        KeyC: () => ctx.openChat(),
        KeyM: () => void media.toggle('microphone'),
        KeyV: () => void media.toggle('camera'),
        KeyK: () => layout.controls.focus(),
        KeyP: () => {
          ctx.showSide('people')
          layout.side.tabs.get('people')?.focus()
        },
        KeyW: () => layout.stage.select('whiteboard'),
        KeyN: () => {
          layout.stage.select('notes')
          docs.notes?.focus()
        },
        KeyL: () => void leave(ctx),
      }
      const action = actions[event.code]
      if (action) {
        event.preventDefault()
        action()
      }
      return
    }
    if (event.key === '?' && !typingInField(event.target) && !(event.target as HTMLElement)?.closest?.('.board-canvas')) {
      event.preventDefault()
      shortcuts()
    }
  }
}

/** Leave the room (Alt+L), after saying yes. */
async function leave(ctx: RoomContext): Promise<void> {
  if (await confirmDialog(t('room.leave.title'), t('room.leave.body'), t('room.header.leave'), true)) ctx.navigate('/')
}

/** A skip link of the room page (beside the page's own "Skip to main content"). */
export function skipLink(text: string, go: () => void): HTMLElement {
  return h(
    'a.skip-link',
    {
      href: '#main',
      onclick: (event: Event) => {
        event.preventDefault()
        go()
      },
    },
    text,
  )
}
