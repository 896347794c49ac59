// People: the lobby (hosts), the hands queue, everyone in the room and host actions.

import type { RoomRole } from '../api'
import { avatarColor, confirmDialog, fill, h, initials, modal } from '../dom'
import { t } from '../i18n'
import { type RoomContext, run } from './context'
import { isHost, type Participant } from './model'
import type { ClientMessage } from './protocol.gen'

export function roleLabel(role: RoomRole): string {
  return t(`roomRole.label.${role}`)
}
const ROLE_ORDER: RoomRole[] = ['host', 'co-host', 'presenter', 'participant', 'observer']

export class PeoplePanel {
  readonly el: HTMLElement
  private readonly lobby: HTMLElement
  private readonly hands: HTMLElement
  private readonly list: HTMLElement

  constructor(private readonly ctx: RoomContext) {
    this.lobby = h('section.stack', { 'aria-label': t('people.lobby'), 'data-testid': 'lobby' })
    this.hands = h('section.stack', { 'aria-label': t('people.hands'), 'data-testid': 'hands' })
    this.list = h('section.stack', { 'aria-label': t('people.participants') })
    this.el = h('section.panel.people', { 'aria-label': t('people.region') }, this.lobby, this.hands, this.list)
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
      h('h3', null, t('people.lobby.count', { count: model.lobby.size })),
      h(
        'ul.people-list',
        null,
        [...model.lobby.values()].map((person) =>
          h(
            'li.person',
            { 'data-user-id': person.user_id },
            h('span.grow', null, person.name),
            h('button.primary.small', { type: 'button', 'aria-label': t('people.admit.label', { name: person.name }), onclick: () => void run(this.ctx, { type: 'lobby.admit', user_id: person.user_id }) }, t('people.admit')),
            h('button.small', { type: 'button', 'aria-label': t('people.deny.label', { name: person.name }), onclick: () => void run(this.ctx, { type: 'lobby.deny', user_id: person.user_id }) }, t('people.deny')),
          ),
        ),
      ),
    )
  }

  private renderHands(): void {
    const model = this.ctx.model
    const me = model.me.user_id
    if (!model.hands.length) {
      fill(this.hands, h('h3', null, t('people.hands')), h('p.muted.small', null, t('people.hands.none')))
      return
    }
    fill(
      this.hands,
      h('h3', null, t('people.hands.count', { count: model.hands.length })),
      h(
        'ol.hand-queue',
        { 'aria-label': t('people.hands.queue') },
        model.hands.map((hand) => {
          const name = model.name(hand.user_id)
          return h(
            'li.person',
            { 'data-user-id': hand.user_id },
            h('span.grow', null, h('span', { 'aria-hidden': 'true' }, '✋ '), hand.user_id === me ? t('people.you', { name }) : name),
            model.amHost || hand.user_id === me
              ? h(
                  'button.small',
                  {
                    type: 'button',
                    'aria-label': hand.user_id === me ? t('people.lowerMine') : t('people.lowerTheirs', { name }),
                    onclick: () => void run(this.ctx, { type: 'hand.lower', ...(hand.user_id === me ? {} : { user_id: hand.user_id }) }),
                  },
                  t('people.lower'),
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
      h('h3', null, t('people.inRoom', { count: people.length })),
      h('ul.people-list', null, people.map((p) => this.person(p))),
    )
  }

  private person(p: Participant): HTMLElement {
    const model = this.ctx.model
    const me = p.user_id === model.me.user_id
    const position = model.handPosition(p.user_id)
    // Each state is an image with a name (role="img"), so screen readers read it with the
    // person: "Bo Student, Participant, hand raised, 1st in the queue, microphone off".
    const state = (icon: string, label: string, key: string): HTMLElement =>
      h('span.icon-badge', { role: 'img', 'aria-label': label, title: label, 'data-state': key }, icon)
    const icons = [
      position ? state(`✋${position}`, t('people.state.hand', { position }), 'hand') : null,
      model.spotlight === p.user_id ? state('★', t('people.state.spotlight'), 'spotlight') : null,
      state(p.mic ? '🎤' : '🔇', t(p.mic ? 'people.state.micOn' : 'people.state.micOff'), p.mic ? 'mic-on' : 'mic-off'),
      p.camera ? state('📷', t('people.state.cameraOn'), 'camera-on') : null,
      p.away ? h('span.badge', { 'data-state': 'away' }, t('people.state.away')) : null,
    ]
    return h(
      'li.person',
      { 'data-user-id': p.user_id },
      h('span.avatar', { 'aria-hidden': 'true', style: `background:${avatarColor(p.user_id)}` }, initials(p.name)),
      h('span.grow', null, h('span.person-name', null, me ? t('people.you', { name: p.name }) : p.name), ' ', h('span.badge.role', null, roleLabel(p.role))),
      ...icons,
      model.amHost && !me
        ? h('button.small', { type: 'button', 'aria-label': t('people.manage.label', { name: p.name }), onclick: () => this.manage(p) }, t('people.manage'))
        : !me && model.can('chat')
          ? h('button.small', { type: 'button', 'aria-label': t('people.message.label', { name: p.name }), onclick: () => this.ctx.openChat(p.user_id) }, t('people.message'))
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
      { id: 'manage-role' },
      roles.map((role) => h('option', { value: role, selected: role === p.role }, roleLabel(role))),
    )
    const untouchable = p.role === 'host' && model.me.role !== 'host'
    const content = h(
      'div.stack',
      null,
      untouchable ? h('p.muted', null, t('people.manage.hostOnly')) : null,
      h(
        'div.row.tight',
        null,
        h('label', { for: 'manage-role' }, t('people.manage.role')),
        roleSelect,
        h('button', { type: 'button', disabled: untouchable, onclick: () => void act({ type: 'participant.set_role', user_id: p.user_id, role: roleSelect.value as RoomRole }) }, t('people.manage.changeRole')),
      ),
      h(
        'div.row.wrap',
        null,
        h('button', { type: 'button', disabled: untouchable, onclick: () => void act({ type: 'participant.mute', user_id: p.user_id }) }, t('people.manage.mute')),
        h('button', { type: 'button', disabled: untouchable, onclick: () => void act({ type: 'participant.ask_unmute', user_id: p.user_id }) }, t('people.manage.askUnmute')),
        model.track(p.user_id, 'camera')
          ? h('button', { type: 'button', disabled: untouchable, onclick: () => void act({ type: 'media.mute', user_id: p.user_id, source: 'camera' }) }, t('people.manage.stopVideo'))
          : null,
        model.spotlight === p.user_id
          ? h('button', { type: 'button', onclick: () => void act({ type: 'room.spotlight', user_id: null }) }, t('people.manage.unspotlight'))
          : h('button', { type: 'button', onclick: () => void act({ type: 'room.spotlight', user_id: p.user_id }) }, t('people.manage.spotlight')),
        model.handPosition(p.user_id)
          ? h('button', { type: 'button', onclick: () => void act({ type: 'hand.lower', user_id: p.user_id }) }, t('people.manage.lowerHand'))
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
          t('people.manage.message'),
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
              if (await confirmDialog(t('people.remove.title', { name: p.name }), t('people.remove.body'), t('people.remove.confirm'), true)) {
                await act({ type: 'participant.remove', user_id: p.user_id, ban: false })
              }
            },
          },
          t('people.remove'),
        ),
        h(
          'button.danger',
          {
            type: 'button',
            disabled: untouchable,
            onclick: async () => {
              if (await confirmDialog(t('people.ban.title', { name: p.name }), t('people.ban.body'), t('people.ban'), true)) {
                await act({ type: 'participant.remove', user_id: p.user_id, ban: true })
              }
            },
          },
          t('people.ban'),
        ),
      ),
    )
    const dialog = modal(t('people.manage.title', { name: p.name }), content)
    if (isHost(p.role) && model.me.role !== 'host') roleSelect.disabled = true
  }
}
