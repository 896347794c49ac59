// The live class layout, built once per room page after the first welcome: the header (a
// banner with the room's navigation), the main region (video tiles over the whiteboard and
// notes), the side panels (a complementary region: chat, people, polls, breakouts, host) and
// the control bar (its own footer with one toolbar).

import { h, Roving } from '../dom'
import { t } from '../i18n'
import { BreakoutsPanel } from './breakouts'
import { CaptionsPanel } from './captions'
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
import { QuizzesPanel } from './quizzes'
import { TabSet } from './tabs'
import { Tiles } from './tiles'

export type StageTab = 'whiteboard' | 'notes'

/** What exists once the class layout is built. */
export interface Layout {
  el: HTMLElement
  main: HTMLElement
  chat: ChatPanel
  people: PeoplePanel
  polls: PollsPanel
  quizzes: QuizzesPanel
  breakouts: BreakoutsPanel
  host: HostPanel
  captions: CaptionsPanel
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
  const title = h('h1#room-title.room-title')
  const chips = h('div.chips')
  const actions = h(
    'div.header-actions',
    { role: 'toolbar', 'aria-label': t('room.header.actions') },
    h('button', { type: 'button', onclick: () => invite() }, t('room.header.invite')),
    h(
      'button',
      { type: 'button', 'aria-keyshortcuts': '?', title: t('room.header.shortcutsTitle'), onclick: () => shortcuts() },
      h('span.icon-only', { 'aria-hidden': 'true' }, '⌨ '),
      h('span.label', null, t('room.header.shortcuts')),
    ),
    h('a.button.danger', { href: '/', 'data-link': '', 'aria-keyshortcuts': 'Alt+L' }, t('room.header.leave')),
  )
  const header = h(
    'header.room-header',
    null,
    h(
      'nav.room-nav',
      { 'aria-label': t('room.header.nav') },
      h('a.button.small.back', { href: '/', 'data-link': '', title: t('room.header.backTitle') }, h('span', { 'aria-hidden': 'true' }, '← '), h('span.label', null, t('room.header.back'))),
    ),
    h('div.grow.room-heading', null, title, chips),
    actions,
  )
  new Roving(actions).sync()
  const tiles = new Tiles(ctx, media)
  const stage = new TabSet<StageTab>(
    'stage',
    t('room.stage.tabs'),
    [
      ['whiteboard', t('room.stage.whiteboard'), board.root],
      ['notes', t('room.stage.notes'), notes.root],
    ],
    (id) => stage.select(id),
  )
  const panels = {
    chat: new ChatPanel(ctx),
    people: new PeoplePanel(ctx),
    polls: new PollsPanel(ctx),
    quizzes: new QuizzesPanel(ctx),
    breakouts: new BreakoutsPanel(ctx),
    host: new HostPanel(ctx, () => ctx.model.room.title),
    captions: new CaptionsPanel(ctx, tiles.el),
  }
  const side = new TabSet<SideTab>(
    'side',
    t('room.side.tabs'),
    [
      ['chat', t('room.side.chat'), panels.chat.el],
      ['people', t('room.side.people'), panels.people.el],
      ['polls', t('room.side.polls'), panels.polls.el],
      ['quizzes', t('liveQuiz.heading'), panels.quizzes.el],
      ['breakouts', t('room.side.breakouts'), panels.breakouts.el],
      ['host', t('room.side.host'), panels.host.el],
      ['captions', t('captions.heading'), panels.captions.el],
    ],
    showSide,
  )
  const controls = new ControlBar(ctx, media)
  const main = h(
    'main#main.stage',
    { tabindex: -1, 'aria-labelledby': 'room-title' },
    h('section.video', { 'aria-label': t('room.video.region') }, tiles.el, panels.captions.bar),
    tiles.sinksEl,
    stage.list,
    stage.body,
  )
  const el = h(
    'div.room',
    null,
    header,
    notices.el,
    h('div.room-body', null, main, h('aside#side.side', { 'aria-label': t('room.side.region') }, side.list, side.body)),
    controls.el,
    controls.reactionLayer,
  )
  return { el, main, ...panels, tiles, controls, side, stage, title, chips }
}
