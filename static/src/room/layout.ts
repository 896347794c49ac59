// The live class layout, built once per room page after the first welcome: the header, the
// stage (video tiles over the whiteboard and notes), the side panels (chat, people, polls,
// breakouts, host) and the control bar.

import { h } from '../dom'
import { BreakoutsPanel } from './breakouts'
import { ChatPanel } from './chat'
import type { RoomContext, SideTab } from './context'
import { ControlBar } from './controls'
import { shortcuts } from './dialogs'
import type { RoomDocs } from './docs'
import { HostPanel } from './host'
import type { MediaClient } from './media'
import type { Notices } from './notices'
import { PeoplePanel } from './people'
import { PollsPanel } from './polls'
import { TabSet } from './tabs'
import { Tiles } from './tiles'

export type StageTab = 'whiteboard' | 'notes'

/** What exists once the class layout is built. */
export interface Layout {
  el: HTMLElement
  chat: ChatPanel
  people: PeoplePanel
  polls: PollsPanel
  breakouts: BreakoutsPanel
  host: HostPanel
  tiles: Tiles
  controls: ControlBar
  side: TabSet<SideTab>
  stage: TabSet<StageTab>
  title: HTMLElement
  chips: HTMLElement
}

export interface LayoutParts {
  ctx: RoomContext
  media: MediaClient
  docs: RoomDocs
  notices: Notices
  invite(): void
  showSide(tab: SideTab): void
}

export function buildLayout({ ctx, media, docs, notices, invite, showSide }: LayoutParts): Layout {
  const { board, notes } = docs.mount(() => ctx.model.room.title)
  const title = h('h1.room-title')
  const chips = h('div.chips')
  const header = h(
    'header.room-header',
    null,
    h('a.button.small', { href: '/', 'data-link': '', 'aria-label': 'Leave the room and go to my rooms' }, '←'),
    h('div.grow', null, title, chips),
    h('button', { type: 'button', onclick: () => invite() }, 'Invite'),
    h('button', { type: 'button', 'aria-label': 'Keyboard shortcuts', title: 'Keyboard shortcuts (?)', onclick: () => shortcuts() }, '⌨'),
    h('a.button.danger', { href: '/', 'data-link': '' }, 'Leave'),
  )
  const tiles = new Tiles(ctx, media)
  const stage = new TabSet<StageTab>(
    'stage',
    'Class space',
    [
      ['whiteboard', 'Whiteboard', board.root],
      ['notes', 'Notes', notes.root],
    ],
    (id) => stage.select(id),
  )
  const panels = {
    chat: new ChatPanel(ctx),
    people: new PeoplePanel(ctx),
    polls: new PollsPanel(ctx),
    breakouts: new BreakoutsPanel(ctx),
    host: new HostPanel(ctx, () => ctx.model.room.title),
  }
  const side = new TabSet<SideTab>(
    'side',
    'Class tools',
    [
      ['chat', 'Chat', panels.chat.el],
      ['people', 'People', panels.people.el],
      ['polls', 'Polls', panels.polls.el],
      ['breakouts', 'Breakouts', panels.breakouts.el],
      ['host', 'Host', panels.host.el],
    ],
    showSide,
  )
  const controls = new ControlBar(ctx, media)
  const el = h(
    'div.room',
    null,
    header,
    notices.el,
    h(
      'div.room-body',
      null,
      h('section.stage', { 'aria-label': 'Stage' }, tiles.el, tiles.sinksEl, stage.list, stage.body),
      h('aside.side', { 'aria-label': 'Chat, people, polls and more' }, side.list, side.body),
    ),
    controls.el,
    controls.reactionLayer,
  )
  return { el, ...panels, tiles, controls, side, stage, title, chips }
}
