// Polls: hosts create, publish and close; everyone with the vote grant votes.

import { append, fill, h } from '../dom'
import { formatList, formatPercent, t } from '../i18n'
import { type RoomContext, run } from './context'
import type { Poll } from './model'

export class PollsPanel {
  readonly el: HTMLElement
  private readonly list: HTMLElement
  private readonly createBox: HTMLElement
  private drafts = new Map<string, Set<number>>()

  constructor(private readonly ctx: RoomContext) {
    this.list = h('div.stack', { 'aria-live': 'polite' })
    this.createBox = h('div')
    this.el = h('section.panel.polls', { 'aria-label': 'Polls' }, this.createBox, this.list)
  }

  render(): void {
    const model = this.ctx.model
    if (model.amHost && !this.createBox.firstChild) this.createBox.appendChild(this.createForm())
    if (!model.amHost) fill(this.createBox)
    const polls = [...model.polls.values()].reverse()
    if (!polls.length) {
      fill(this.list, h('p.muted', null, t(model.amHost ? 'polls.none.host' : 'polls.none')))
      return
    }
    fill(this.list, polls.map((poll) => this.pollCard(poll)))
  }

  private createForm(): HTMLElement {
    const question = h('input', { id: 'poll-question', required: true, maxlength: 500, placeholder: t('polls.question.placeholder') })
    const options = h('div.stack.tight', { role: 'group', 'aria-label': t('polls.options') })
    const addOption = (value = ''): void => {
      if (options.children.length >= 10) return
      const index = options.children.length + 1
      const input = h('input.poll-option', { 'aria-label': t('polls.option', { index }), maxlength: 200, value, placeholder: t('polls.option', { index }) })
      options.appendChild(input)
    }
    addOption()
    addOption()
    const multiple = h('input', { type: 'checkbox', id: 'poll-multiple' })
    const anonymous = h('input', { type: 'checkbox', id: 'poll-anonymous' })
    const details = h('details.card', { open: this.ctx.model.polls.size === 0 })
    const form = h(
      'form.stack',
      {
        onsubmit: async (event: Event) => {
          event.preventDefault()
          const values = [...options.querySelectorAll<HTMLInputElement>('input')].map((i) => i.value.trim()).filter(Boolean)
          if (values.length < 2) {
            options.querySelector<HTMLInputElement>('input')?.focus()
            return
          }
          const ok = await run(this.ctx, {
            type: 'poll.create',
            question: question.value.trim(),
            options: values,
            multiple: multiple.checked,
            anonymous: anonymous.checked,
          })
          if (ok) {
            question.value = ''
            options.replaceChildren()
            addOption()
            addOption()
          }
        },
      },
      h('div.field', null, h('label', { for: 'poll-question' }, t('polls.question')), question),
      options,
      h('button.link', { type: 'button', onclick: () => addOption() }, t('polls.addOption')),
      h('label.check', { for: 'poll-multiple' }, multiple, t('polls.multiple')),
      h('label.check', { for: 'poll-anonymous' }, anonymous, t('polls.anonymous')),
      h('button.primary', { type: 'submit' }, t('polls.start')),
    )
    append(details, [h('summary', null, t('polls.new')), form])
    return details
  }

  private pollCard(poll: Poll): HTMLElement {
    const model = this.ctx.model
    const card = h('article.card.poll', { 'data-poll-id': poll.id, 'aria-label': t('polls.card', { question: poll.question }) })
    const state = t(poll.status === 'closed' ? 'polls.state.closed' : poll.published ? 'polls.state.published' : 'polls.state.open')
    append(card, [
      h('header.row.between', null, h('h3', null, poll.question), h('span.badge', null, state)),
      h('p.muted.small', null, [t(poll.multiple ? 'polls.kind.multiple' : 'polls.kind.single'), poll.anonymous ? t('polls.kind.anonymous') : null].filter(Boolean).join(' · ')),
    ])
    const canVote = model.can('vote') && poll.status === 'open' && !poll.my_vote
    if (canVote) {
      const draft = this.drafts.get(poll.id) ?? new Set<number>()
      this.drafts.set(poll.id, draft)
      const group = h('fieldset.stack.tight', null, h('legend.sr-only', null, poll.question))
      poll.options.forEach((option, index) => {
        const input = h('input', {
          type: poll.multiple ? 'checkbox' : 'radio',
          name: `poll-${poll.id}`,
          value: index,
          checked: draft.has(index),
          onchange: (event: Event) => {
            const checked = (event.target as HTMLInputElement).checked
            if (!poll.multiple) draft.clear()
            if (checked) draft.add(index)
            else draft.delete(index)
          },
        })
        group.appendChild(h('label.check', null, input, option))
      })
      const vote = h(
        'button.primary',
        {
          type: 'button',
          onclick: async () => {
            if (!draft.size) return
            const choices = [...draft].sort((a, b) => a - b)
            if (await run(this.ctx, { type: 'poll.vote', poll_id: poll.id, choices })) {
              poll.my_vote = choices
              this.drafts.delete(poll.id)
              this.render()
            }
          },
        },
        t('polls.vote'),
      )
      append(card, [group, vote])
    } else if (poll.my_vote) {
      card.appendChild(h('p.small', { 'data-testid': 'my-vote' }, t('polls.voted', { choices: formatList(poll.my_vote.map((i) => poll.options[i])) })))
    }
    if (poll.results && (model.amHost || poll.published)) card.appendChild(this.results(poll))
    else if (!canVote) card.appendChild(h('p.muted.small', null, t('polls.resultsLater')))
    if (model.amHost) {
      const actions = h('div.row.wrap')
      if (!poll.published) {
        actions.appendChild(h('button', { type: 'button', onclick: () => void run(this.ctx, { type: 'poll.publish', poll_id: poll.id }) }, t('polls.publish')))
      }
      if (poll.status === 'open') {
        actions.appendChild(h('button', { type: 'button', onclick: () => void run(this.ctx, { type: 'poll.close', poll_id: poll.id }) }, t('polls.close')))
      }
      card.appendChild(actions)
    }
    return card
  }

  private results(poll: Poll): HTMLElement {
    const results = poll.results ?? { counts: [], votes: 0 }
    const total = Math.max(1, results.counts.reduce((a, b) => a + b, 0))
    return h(
      'div.results',
      { role: 'group', 'aria-label': t('polls.results', { count: results.votes }) },
      h('p.small', { 'data-testid': 'poll-votes' }, t(poll.published ? 'polls.votes' : 'polls.votes.live', { count: results.votes })),
      poll.options.map((option, index) => {
        const count = results.counts[index] ?? 0
        const percent = Math.round((count / total) * 100)
        const shown = t('polls.count', { count, percent: formatPercent(count / total) })
        return h(
          'div.result-row',
          { 'data-option': index },
          h('div.row.between.small', null, h('span', null, option), h('span.result-count', null, shown)),
          h('div.bar', { role: 'progressbar', 'aria-valuenow': percent, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuetext': shown, 'aria-label': option }, h('span', { style: `width:${percent}%` })),
        )
      }),
    )
  }
}
