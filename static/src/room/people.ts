// People: the lobby (hosts), the hands queue, everyone in the room and host actions.

import type { RoomRole } from '../api'
import { colorFor, confirmDialog, fill, h, initials, modal } from '../dom'
import { type RoomContext, run } from './context'
import { isHost, type Participant } from './model'
import type { ClientMessage } from './protocol.gen'

const ROLE_LABEL: Record<RoomRole, string> = {
  host: 'Host',
  'co-host': 'Co-host',
  presenter: 'Presenter',
  participant: 'Participant',
  observer: 'Observer',
}
const ROLE_ORDER: RoomRole[] = ['host', 'co-host', 'presenter', 'participant', 'observer']

export class PeoplePanel {
  readonly el: HTMLElement
  private readonly lobby: HTMLElement
  private readonly hands: HTMLElement
  private readonly list: HTMLElement

  constructor(private readonly ctx: RoomContext) {
    this.lobby = h('section.stack', { 'aria-label': 'Waiting room', 'data-testid': 'lobby' })
    this.hands = h('section.stack', { 'aria-label': 'Raised hands', 'data-testid': 'hands' })
    this.list = h('section.stack', { 'aria-label': 'Participants' })
    this.el = h('section.panel.people', { 'aria-label': 'People' }, this.lobby, this.hands, this.list)
  }

  render(): void {
    this.renderLobby()
    this.renderHands()
    this.renderList()
  }

  private renderLobby(): void {
    const model = this.ctx.model
    if (!model.amHost || model.lobby.size === 0) {
      fill(this.lobby)
      this.lobby.hidden = true
      return
    }
    this.lobby.hidden = false
    fill(
      this.lobby,
      h('h3', null, `Waiting room (${model.lobby.size})`),
      h(
        'ul.people-list',
        null,
        [...model.lobby.values()].map((person) =>
          h(
            'li.person',
            { 'data-user-id': person.user_id },
            h('span.grow', null, person.name),
            h('button.primary.small', { type: 'button', 'aria-label': `Admit ${person.name}`, onclick: () => void run(this.ctx, { type: 'lobby.admit', user_id: person.user_id }) }, 'Admit'),
            h('button.small', { type: 'button', 'aria-label': `Deny ${person.name}`, onclick: () => void run(this.ctx, { type: 'lobby.deny', user_id: person.user_id }) }, 'Deny'),
          ),
        ),
      ),
    )
  }

  private renderHands(): void {
    const model = this.ctx.model
    const me = model.me.user_id
    if (!model.hands.length) {
      fill(this.hands, h('h3', null, 'Raised hands'), h('p.muted.small', null, 'No hands raised.'))
      return
    }
    fill(
      this.hands,
      h('h3', null, `Raised hands (${model.hands.length})`),
      h(
        'ol.hand-queue',
        { 'aria-label': 'Hands queue, in the order raised' },
        model.hands.map((hand) => {
          const name = model.name(hand.user_id)
          return h(
            'li.person',
            { 'data-user-id': hand.user_id },
            h('span.grow', null, '✋ ', hand.user_id === me ? `${name} (you)` : name),
            model.amHost || hand.user_id === me
              ? h(
                  'button.small',
                  {
                    type: 'button',
                    'aria-label': hand.user_id === me ? 'Lower my hand' : `Lower ${name}'s hand`,
                    onclick: () => void run(this.ctx, { type: 'hand.lower', ...(hand.user_id === me ? {} : { user_id: hand.user_id }) }),
                  },
                  'Lower',
                )
              : null,
          )
        }),
      ),
    )
  }

  private renderList(): void {
    const model = this.ctx.model
    const people = [...model.participants.values()].sort(
      (a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role) || a.name.localeCompare(b.name),
    )
    fill(
      this.list,
      h('h3', null, `In the room (${people.length})`),
      h('ul.people-list', null, people.map((p) => this.person(p))),
    )
  }

  private person(p: Participant): HTMLElement {
    const model = this.ctx.model
    const me = p.user_id === model.me.user_id
    const position = model.handPosition(p.user_id)
    const icons = [
      position ? h('span.icon-badge', { title: `Hand raised (#${position})`, 'aria-label': `hand raised, number ${position} in the queue` }, `✋${position}`) : null,
      model.spotlight === p.user_id ? h('span.icon-badge', { title: 'Spotlight', 'aria-label': 'in the spotlight' }, '★') : null,
      h('span.icon-badge', { title: p.mic ? 'Microphone on' : 'Microphone off', 'aria-label': p.mic ? 'microphone on' : 'microphone off' }, p.mic ? '🎤' : '🔇'),
      p.camera ? h('span.icon-badge', { title: 'Camera on', 'aria-label': 'camera on' }, '📷') : null,
      p.away ? h('span.badge', { title: 'Away' }, 'away') : null,
    ]
    return h(
      'li.person',
      { 'data-user-id': p.user_id },
      h('span.avatar', { 'aria-hidden': 'true', style: `background:${colorFor(p.user_id)}` }, initials(p.name)),
      h('span.grow', null, h('span.person-name', null, me ? `${p.name} (you)` : p.name), ' ', h('span.badge.role', null, ROLE_LABEL[p.role] ?? p.role)),
      ...icons,
      model.amHost && !me
        ? h('button.small', { type: 'button', 'aria-label': `Manage ${p.name}`, onclick: () => this.manage(p) }, 'Manage')
        : !me && model.can('chat')
          ? h('button.small', { type: 'button', 'aria-label': `Message ${p.name} privately`, onclick: () => this.ctx.openChat(p.user_id) }, 'Message')
          : null,
    )
  }

  /** The host's actions on one participant, in a dialog. */
  private manage(p: Participant): void {
    const model = this.ctx.model
    const act = async (message: ClientMessage): Promise<void> => {
      if (await run(this.ctx, message)) dialog.close()
    }
    const roles: RoomRole[] = model.me.role === 'host' ? ROLE_ORDER : ['presenter', 'participant', 'observer']
    const roleSelect = h(
      'select',
      { id: 'manage-role', 'aria-label': `Role of ${p.name}` },
      roles.map((role) => h('option', { value: role, selected: role === p.role }, ROLE_LABEL[role])),
    )
    const untouchable = p.role === 'host' && model.me.role !== 'host'
    const content = h(
      'div.stack',
      null,
      untouchable ? h('p.muted', null, 'Only the host can act on the host.') : null,
      h(
        'div.row.tight',
        null,
        h('label', { for: 'manage-role' }, 'Role'),
        roleSelect,
        h('button', { type: 'button', disabled: untouchable, onclick: () => void act({ type: 'participant.set_role', user_id: p.user_id, role: roleSelect.value as RoomRole }) }, 'Change role'),
      ),
      h(
        'div.row.wrap',
        null,
        h('button', { type: 'button', disabled: untouchable, onclick: () => void act({ type: 'participant.mute', user_id: p.user_id }) }, 'Mute'),
        h('button', { type: 'button', disabled: untouchable, onclick: () => void act({ type: 'participant.ask_unmute', user_id: p.user_id }) }, 'Ask to unmute'),
        model.track(p.user_id, 'camera')
          ? h('button', { type: 'button', disabled: untouchable, onclick: () => void act({ type: 'media.mute', user_id: p.user_id, source: 'camera' }) }, 'Stop video')
          : null,
        model.spotlight === p.user_id
          ? h('button', { type: 'button', onclick: () => void act({ type: 'room.spotlight', user_id: null }) }, 'Remove spotlight')
          : h('button', { type: 'button', onclick: () => void act({ type: 'room.spotlight', user_id: p.user_id }) }, 'Spotlight'),
        model.handPosition(p.user_id)
          ? h('button', { type: 'button', onclick: () => void act({ type: 'hand.lower', user_id: p.user_id }) }, 'Lower hand')
          : null,
        h(
          'button',
          {
            type: 'button',
            onclick: () => {
              dialog.close()
              this.ctx.openChat(p.user_id)
            },
          },
          'Message privately',
        ),
      ),
      h(
        'div.row.wrap',
        null,
        h(
          'button.danger',
          {
            type: 'button',
            disabled: untouchable,
            onclick: async () => {
              if (await confirmDialog(`Remove ${p.name}?`, 'They leave the room now. They can come back with the link unless the room is locked.', 'Remove', true)) {
                await act({ type: 'participant.remove', user_id: p.user_id, ban: false })
              }
            },
          },
          'Remove from room',
        ),
        h(
          'button.danger',
          {
            type: 'button',
            disabled: untouchable,
            onclick: async () => {
              if (await confirmDialog(`Ban ${p.name}?`, 'They leave the room now and cannot come back.', 'Remove and ban', true)) {
                await act({ type: 'participant.remove', user_id: p.user_id, ban: true })
              }
            },
          },
          'Remove and ban',
        ),
      ),
    )
    const dialog = modal(`Manage ${p.name}`, content)
    if (isHost(p.role) && model.me.role !== 'host') roleSelect.disabled = true
  }
}
