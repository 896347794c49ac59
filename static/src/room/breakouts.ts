// Breakout rooms: hosts create, assign, open with a timer, broadcast and close them;
// participants join their room and come back.

import { append, fill, h } from '../dom'
import { formatClock, formatList, t } from '../i18n'
import { type RoomContext, run } from './context'
import { isHost } from './model'

export function remaining(endsAt: string | null): string {
  if (!endsAt) return ''
  return formatClock((new Date(endsAt).getTime() - Date.now()) / 1000)
}

export class BreakoutsPanel {
  readonly el: HTMLElement
  private readonly body: HTMLElement
  private timer = 0

  constructor(private readonly ctx: RoomContext) {
    this.body = h('div.stack')
    this.el = h('section.panel.breakouts', { 'aria-label': t('breakouts.region') }, this.body)
  }

  destroy(): void {
    window.clearInterval(this.timer)
  }

  render(): void {
    const model = this.ctx.model
    window.clearInterval(this.timer)
    if (model.room.parent_id) {
      fill(
        this.body,
        h('p', null, t('breakouts.inOne')),
        h('button.primary', { type: 'button', onclick: () => this.ctx.navigate(`/rooms/${model.room.parent_id}`) }, t('breakouts.return')),
      )
      return
    }
    const b = model.breakouts
    const active = b && b.status !== 'closed'
    if (!model.amHost) {
      const mine = model.myBreakout()
      if (!active) fill(this.body, h('p.muted', null, t('breakouts.none')))
      else if (b.status === 'created') fill(this.body, h('p.muted', null, t('breakouts.preparing')))
      else if (mine) {
        fill(
          this.body,
          h('p', null, t('breakouts.assigned', { name: mine.name }), b.ends_at ? h('span.timer', null, ` ${t('breakouts.timeLeft', { time: remaining(b.ends_at) })}`) : null),
          h('button.primary', { type: 'button', onclick: () => this.ctx.navigate(`/rooms/${mine.id}`) }, t('breakouts.join', { name: mine.name })),
        )
      } else fill(this.body, h('p.muted', null, t('breakouts.stay')))
      this.tick()
      return
    }
    if (!active) {
      fill(this.body, this.createForm())
      return
    }
    const people = [...model.participants.values()].filter((p) => !isHost(p.role))
    const rooms = b.rooms.map((room, index) => {
      const members = Object.entries(b.assignments)
        .filter(([, i]) => i === index)
        .map(([id]) => model.name(id))
      return h(
        'li.card.tight',
        { 'data-breakout-id': room.id },
        h(
          'div.row.between',
          null,
          h('strong', null, room.name),
          b.status === 'open' ? h('button.small', { type: 'button', onclick: () => this.ctx.navigate(`/rooms/${room.id}`), 'aria-label': t('breakouts.join', { name: room.name }) }, t('breakouts.joinShort')) : null,
        ),
        h('p.small.muted', null, members.length ? formatList(members) : t('breakouts.nobody')),
      )
    })
    const assign = h(
      'div.stack.tight',
      null,
      h('h4', null, t('breakouts.assignments')),
      people.length
        ? people.map((p) =>
            h(
              'div.row.between',
              null,
              h('label', { for: `assign-${p.user_id}` }, p.name),
              h(
                'select',
                {
                  id: `assign-${p.user_id}`,
                  onchange: (event: Event) =>
                    void run(this.ctx, { type: 'breakout.assign', user_id: p.user_id, index: Number((event.target as HTMLSelectElement).value) }),
                },
                h('option', { value: '', disabled: true, selected: b.assignments[p.user_id] === undefined }, t('breakouts.notAssigned')),
                b.rooms.map((room, index) => h('option', { value: index, selected: b.assignments[p.user_id] === index }, room.name)),
              ),
            ),
          )
        : h('p.muted.small', null, t('breakouts.nobodyToAssign')),
    )
    const controls = h('div.stack')
    if (b.status === 'created') {
      const minutes = h('input', { id: 'breakout-minutes', type: 'number', min: 1, max: 240, value: 10 })
      controls.appendChild(
        h(
          'form.row.wrap',
          {
            onsubmit: (event: Event) => {
              event.preventDefault()
              const value = Number(minutes.value)
              void run(this.ctx, { type: 'breakout.open', ...(value > 0 ? { duration_seconds: Math.max(30, Math.round(value * 60)) } : {}) })
            },
          },
          h('label', { for: 'breakout-minutes' }, t('breakouts.minutes')),
          minutes,
          h('button.primary', { type: 'submit' }, t('breakouts.open')),
        ),
      )
    } else {
      const text = h('input', { id: 'breakout-broadcast', maxlength: 1000, placeholder: t('breakouts.broadcast.placeholder') })
      append(controls, [
        h('p', null, t('breakouts.areOpen'), b.ends_at ? h('span.timer', null, ` ${t('breakouts.timeLeft', { time: remaining(b.ends_at) })}`) : null),
        h(
          'form.row.tight',
          {
            onsubmit: async (event: Event) => {
              event.preventDefault()
              if (text.value.trim() && (await run(this.ctx, { type: 'breakout.broadcast', text: text.value.trim() }))) text.value = ''
            },
          },
          h('label.sr-only', { for: 'breakout-broadcast' }, t('breakouts.broadcast.label')),
          text,
          h('button', { type: 'submit' }, t('breakouts.broadcast')),
        ),
      ])
    }
    controls.appendChild(
      h('button.danger', { type: 'button', onclick: () => void run(this.ctx, { type: 'breakout.close' }) }, t(b.status === 'open' ? 'breakouts.close' : 'breakouts.discard')),
    )
    fill(this.body, h('ul.stack.tight.plain', { 'aria-label': t('breakouts.region') }, rooms), assign, controls)
    this.tick()
  }

  private tick(): void {
    const ends = this.ctx.model.breakouts?.ends_at
    if (!ends || this.ctx.model.breakouts?.status !== 'open') return
    this.timer = window.setInterval(() => {
      for (const el of this.body.querySelectorAll('.timer')) el.textContent = ` ${t('breakouts.timeLeft', { time: remaining(ends) })}`
    }, 1000)
  }

  private createForm(): HTMLElement {
    const count = h('input', { id: 'breakout-count', type: 'number', min: 1, max: 50, value: 2, required: true })
    const auto = h('input', { id: 'breakout-auto', type: 'checkbox', checked: true })
    return h(
      'form.stack',
      {
        onsubmit: (event: Event) => {
          event.preventDefault()
          void run(this.ctx, { type: 'breakout.create', count: Number(count.value), auto: auto.checked, assignments: {} })
        },
      },
      h('p.muted', null, t('breakouts.intro')),
      h('div.row.tight', null, h('label', { for: 'breakout-count' }, t('breakouts.count')), count),
      h('label.check', { for: 'breakout-auto' }, auto, t('breakouts.auto')),
      h('button.primary', { type: 'submit' }, t('breakouts.create')),
    )
  }
}
