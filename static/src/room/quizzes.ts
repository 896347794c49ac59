// Live quizzes: a host writes a few questions and launches them; students answer in the
// room (inputs from the quiz pages, by the view's tokens); hosts watch each question's
// histogram fill, then close, reveal the answers and send the scores to the gradebook.
// The server keeps keys and credits from students until the reveal (docs/protocol.md,
// "Live quizzes"); a student's own score comes in the ack of quiz.result.

import { append, fill, h } from '../dom'
import { formatPercent, t } from '../i18n'
import type { QuestionView } from '../pages/quizApi'
import { questionInput } from '../pages/quizInputs'
import { type RoomContext, run } from './context'
import type { Quiz } from './model'

type Kind = 'single_choice' | 'multiple_choice' | 'true_false' | 'numeric' | 'short_answer'
const KINDS: Kind[] = ['single_choice', 'multiple_choice', 'true_false', 'numeric', 'short_answer']
const TIMES = [0, 30, 60, 120, 300, 600]
const MAX_QUESTIONS = 10

interface Draft {
  el: HTMLElement
  read(): Record<string, unknown> | string
}

let drafts = 0

function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || `quiz-field-${++drafts}`
  control.id = id
  return h('div.field', null, h('label', { for: id }, label), hint ? h('p.muted.small', null, hint) : null, control)
}

/** One question being written: its type decides the fields that say what is right. */
function questionDraft(index: number, onRemove: (draft: Draft) => void): Draft {
  const kind = h('select', null, KINDS.map((k) => h('option', { value: k }, t(`liveQuiz.kind.${k}`)))) as HTMLSelectElement
  const prompt = h('input', { maxlength: 2000, required: true }) as HTMLInputElement
  const body = h('div.stack.tight')
  let read: () => Record<string, unknown> | string = () => ''

  const choices = (multiple: boolean): void => {
    const list = h('div.stack.tight', { role: 'group', 'aria-label': t('liveQuiz.choices') })
    const add = (): void => {
      if (list.children.length >= 8) return
      const n = list.children.length + 1
      const text = h('input', { 'aria-label': t('liveQuiz.choice', { n }), maxlength: 200 }) as HTMLInputElement
      const right = h('input', { type: multiple ? 'checkbox' : 'radio', name: `quiz-right-${index}`, 'aria-label': t('liveQuiz.choiceRight', { n }) }) as HTMLInputElement
      list.appendChild(h('div.row.tight.quiz-choice', null, right, text))
    }
    for (let i = 0; i < 3; i++) add()
    fill(body, list, h('button.link', { type: 'button', onclick: add }, t('liveQuiz.addChoice')))
    read = () => {
      const rows = [...list.children].map((row, i) => ({ id: `c${i + 1}`, input: row.querySelector<HTMLInputElement>('input:not([type=radio]):not([type=checkbox])')!, right: row.querySelector<HTMLInputElement>('input[type=radio],input[type=checkbox]')!.checked }))
      const filled = rows.filter((r) => r.input.value.trim())
      if (filled.length < 2) return t('liveQuiz.error.choices')
      const right = filled.filter((r) => r.right).map((r) => r.id)
      if (!right.length || (!multiple && right.length > 1)) return t('liveQuiz.error.right')
      const written = filled.map((r) => ({ id: r.id, text: r.input.value.trim() }))
      return multiple ? { choices: written, answers: right } : { choices: written, answer: right[0] }
    }
  }
  const trueFalse = (): void => {
    const name = `quiz-tf-${index}`
    const yes = h('input', { type: 'radio', name, value: 'true', checked: true }) as HTMLInputElement
    const no = h('input', { type: 'radio', name, value: 'false' })
    fill(body, h('fieldset.row', null, h('legend', null, t('liveQuiz.statementIs')), h('label.check', null, yes, t('quiz.true')), h('label.check', null, no, t('quiz.false'))))
    read = () => ({ answer: yes.checked })
  }
  const numeric = (): void => {
    const value = h('input', { inputmode: 'decimal', maxlength: 40 }) as HTMLInputElement
    const tolerance = h('input', { inputmode: 'decimal', maxlength: 40, value: '0' }) as HTMLInputElement
    fill(body, h('div.row.wrap', null, field(t('liveQuiz.number'), value), field(t('liveQuiz.tolerance'), tolerance)))
    read = () => (value.value.trim() ? { value: value.value.trim(), tolerance: tolerance.value.trim() || '0' } : t('liveQuiz.error.number'))
  }
  const short = (): void => {
    const accepted = h('input', { maxlength: 2000 }) as HTMLInputElement
    fill(body, field(t('liveQuiz.accepted'), accepted, t('liveQuiz.acceptedHint')))
    read = () => {
      const texts = accepted.value.split(';').map((s) => s.trim()).filter(Boolean)
      return texts.length ? { accepted: texts.map((text) => ({ text })) } : t('liveQuiz.error.accepted')
    }
  }
  const build = (): void => {
    const k = kind.value as Kind
    if (k === 'single_choice' || k === 'multiple_choice') choices(k === 'multiple_choice')
    else if (k === 'true_false') trueFalse()
    else if (k === 'numeric') numeric()
    else short()
  }
  kind.addEventListener('change', build)
  build()
  const draft: Draft = {
    el: h('fieldset.card.stack.tight.quiz-draft'),
    read: () => {
      const text = prompt.value.trim()
      if (!text) return t('liveQuiz.error.prompt')
      const rest = read()
      return typeof rest === 'string' ? rest : { type: kind.value, prompt: text, ...rest }
    },
  }
  append(draft.el, [
    h('legend', null, t('liveQuiz.question', { n: index })),
    field(t('liveQuiz.type'), kind),
    field(t('liveQuiz.prompt'), prompt),
    body,
    index > 1 ? h('button.link.remove-question', { type: 'button', onclick: () => onRemove(draft) }, t('liveQuiz.removeQuestion', { n: index })) : null,
  ])
  return draft
}

export class QuizzesPanel {
  readonly el: HTMLElement
  private readonly list = h('div.stack')
  private readonly launchBox = h('div')
  private readonly scores = new Map<string, number | null>()
  private readonly inputs = new Map<string, HTMLElement[]>()

  constructor(private readonly ctx: RoomContext) {
    this.el = h('section.panel.quizzes', { 'aria-label': t('liveQuiz.heading') }, this.launchBox, this.list)
  }

  private timer = 0

  render(): void {
    const model = this.ctx.model
    this.wakeAtNextDeadline()
    if (model.amHost && !this.launchBox.firstChild) this.launchBox.appendChild(this.launchForm())
    if (!model.amHost) fill(this.launchBox)
    const quizzes = [...model.quizzes.values()].reverse()
    if (!quizzes.length) {
      fill(this.list, h('p.muted', null, t(model.amHost ? 'liveQuiz.none.host' : 'liveQuiz.none')))
      return
    }
    // Keep what a student is typing: cards are rebuilt only when their quiz changed.
    const keep = new Map([...this.list.querySelectorAll<HTMLElement>('article[data-quiz-id]')].map((el) => [el.dataset.quizId!, el]))
    fill(this.list, quizzes.map((quiz) => {
      const sig = this.signature(quiz)
      const old = keep.get(quiz.id)
      return old && old.dataset.sig === sig ? old : this.card(quiz, sig)
    }))
  }

  /** Render again when an open timed quiz reaches its deadline (its inputs go away). */
  private wakeAtNextDeadline(): void {
    window.clearTimeout(this.timer)
    const next = [...this.ctx.model.quizzes.values()]
      .filter((q) => q.status === 'open' && q.closes_at)
      .map((q) => Date.parse(q.closes_at as string) - Date.now())
      .filter((ms) => ms > 0)
    if (next.length) this.timer = window.setTimeout(() => this.render(), Math.min(...next) + 250)
  }

  private signature(quiz: Quiz): string {
    return JSON.stringify([expired(quiz), quiz.status, quiz.revealed, quiz.graded, quiz.my_answers, quiz.tallies, Boolean(quiz.keys), this.scores.get(quiz.id), this.ctx.model.amHost])
  }

  private launchForm(): HTMLElement {
    const title = h('input', { required: true, maxlength: 200, placeholder: t('liveQuiz.title.placeholder') }) as HTMLInputElement
    const questions = h('div.stack')
    const items: Draft[] = []
    const error = h('p.error', { role: 'alert' })
    const renumber = (): void => {
      items.forEach((draft, i) => {
        const legend = draft.el.querySelector('legend')
        if (legend) legend.textContent = t('liveQuiz.question', { n: i + 1 })
        const remove = draft.el.querySelector<HTMLButtonElement>('button.remove-question')
        if (remove) remove.textContent = t('liveQuiz.removeQuestion', { n: i + 1 })
      })
    }
    const add = (): void => {
      if (items.length >= MAX_QUESTIONS) return
      const draft = questionDraft(items.length + 1, (gone) => {
        items.splice(items.indexOf(gone), 1)
        gone.el.remove()
        renumber()
        questions.querySelector<HTMLElement>('select')?.focus()
      })
      items.push(draft)
      questions.appendChild(draft.el)
    }
    add()
    const seconds = h('select', null, TIMES.map((s) => h('option', { value: s }, s ? t('liveQuiz.seconds', { s }) : t('liveQuiz.untimed')))) as HTMLSelectElement
    const points = h('input', { type: 'number', min: 1, max: 1000, step: 1, value: '', placeholder: t('liveQuiz.points.placeholder') }) as HTMLInputElement
    const details = h('details.card', { open: this.ctx.model.quizzes.size === 0 })
    const form = h(
      'form.stack',
      {
        onsubmit: async (event: Event) => {
          event.preventDefault()
          error.textContent = ''
          const read = items.map((d) => d.read())
          const wrong = read.findIndex((r) => typeof r === 'string')
          if (wrong >= 0) {
            error.textContent = t('liveQuiz.error.in', { n: wrong + 1, what: read[wrong] as string })
            items[wrong].el.querySelector<HTMLElement>('input,select')?.focus()
            return
          }
          const message = {
            type: 'quiz.launch' as const,
            title: title.value.trim() || t('liveQuiz.title.default'),
            questions: read as Record<string, unknown>[],
            ...(Number(seconds.value) ? { seconds: Number(seconds.value) } : {}),
            ...(points.value ? { points: Number(points.value) } : {}),
          }
          if (await run(this.ctx, message)) {
            details.open = false
            title.value = ''
          }
        },
      },
      field(t('liveQuiz.title'), title),
      questions,
      h('button.link', { type: 'button', onclick: add }, t('liveQuiz.addQuestion')),
      h('div.row.wrap', null, field(t('liveQuiz.time'), seconds), field(t('liveQuiz.points'), points)),
      error,
      h('button.primary', { type: 'submit' }, t('liveQuiz.launch')),
    )
    append(details, [h('summary', null, t('liveQuiz.new')), form])
    return details
  }

  private card(quiz: Quiz, sig: string): HTMLElement {
    const model = this.ctx.model
    const state = quiz.revealed ? 'revealed' : quiz.status === 'open' && !expired(quiz) ? 'open' : 'closed'
    const card = h('article.card.quiz', { 'data-quiz-id': quiz.id, 'data-sig': sig, 'aria-labelledby': `quiz-${quiz.id}` })
    append(card, [
      h('header.row.between', null, h('h3', { id: `quiz-${quiz.id}` }, quiz.title), h('span.badge', null, t(`liveQuiz.state.${state}`))),
      quiz.closes_at && state === 'open' ? h('p.muted.small', null, t('liveQuiz.closesAt', { time: new Date(quiz.closes_at).toLocaleTimeString() })) : null,
    ])
    quiz.questions.forEach((question, index) => card.appendChild(this.question(quiz, question.id, question.view as unknown as QuestionView, index + 1, state === 'open')))
    if (quiz.revealed && !model.amHost) card.appendChild(this.myScore(quiz))
    if (model.amHost) card.appendChild(this.hostActions(quiz, state))
    return card
  }

  private question(quiz: Quiz, id: string, view: QuestionView, n: number, open: boolean): HTMLElement {
    const model = this.ctx.model
    const box = h('section.quiz-question', { 'aria-label': t('liveQuiz.question', { n }) }, h('p', null, h('strong', null, `${n}. `), view.prompt))
    const mine = quiz.my_answers[id]
    if (!model.amHost && model.can('vote')) {
      if (mine) box.appendChild(h('p.small', { 'data-testid': 'quiz-answered' }, t('liveQuiz.answered')))
      else if (open) box.append(...this.answerBox(quiz, id, view, n))
    }
    const tally = quiz.tallies?.[id]
    if (tally && (model.amHost || quiz.revealed)) box.appendChild(this.histogram(quiz, id, view, tally))
    if (quiz.revealed && quiz.keys?.[id]) box.appendChild(h('p.small.quiz-key', null, t('liveQuiz.rightAnswer', { answer: rightAnswer(quiz.keys[id]) })))
    return box
  }

  /** The input and send button of an unanswered question: the same elements on every
   *  render, so what a student typed survives other questions' answers arriving. */
  private answerBox(quiz: Quiz, id: string, view: QuestionView, n: number): HTMLElement[] {
    const key = `${quiz.id}/${id}`
    const kept = this.inputs.get(key)
    if (kept) return kept
    const input = questionInput(`${quiz.id}-${id}`, view, null, t('liveQuiz.answerTo', { n }), () => undefined)
    const send = h(
      'button.primary',
      {
        type: 'button',
        onclick: async () => {
          const response = input.read()
          if (!response) return input.el.querySelector<HTMLElement>('input,textarea,select')?.focus()
          if (await run(this.ctx, { type: 'quiz.answer', quiz_id: quiz.id, question_id: id, response })) this.inputs.delete(key)
        },
      },
      t('liveQuiz.send', { n }),
    )
    const made = [input.el, send]
    this.inputs.set(key, made)
    return made
  }

  private histogram(quiz: Quiz, id: string, view: QuestionView, tally: NonNullable<Quiz['tallies']>[string]): HTMLElement {
    const total = Math.max(1, tally.answered)
    const key = quiz.keys?.[id]
    const choices = (key?.choices as { id: string; text: string }[] | undefined) ?? (view.type === 'true_false' ? [{ id: 'true', text: t('quiz.true') }, { id: 'false', text: t('quiz.false') }] : [])
    const summary = t('liveQuiz.tally', { answered: tally.answered, correct: tally.correct, percent: formatPercent(tally.correct / total) })
    return h(
      'div.results',
      { role: 'group', 'aria-label': t('liveQuiz.results', { n: id.slice(1) }), 'data-testid': `tally-${id}` },
      h('p.small', null, summary),
      choices.map((choice) => {
        const count = tally.picks[choice.id] ?? 0
        const percent = Math.round((count / total) * 100)
        const shown = t('polls.count', { count, percent: formatPercent(count / total) })
        return h(
          'div.result-row',
          null,
          h('div.row.between.small', null, h('span', null, choice.text), h('span.result-count', null, shown)),
          h('div.bar', { role: 'progressbar', 'aria-valuenow': percent, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuetext': shown, 'aria-label': choice.text }, h('span', { style: `width:${percent}%` })),
        )
      }),
    )
  }

  private myScore(quiz: Quiz): HTMLElement {
    const box = h('p.quiz-score', { 'data-testid': 'quiz-score' })
    const known = this.scores.has(quiz.id) ? this.scores.get(quiz.id) : quiz.my_score
    if (known !== undefined) {
      box.textContent = known === null ? t('liveQuiz.score.none') : t('liveQuiz.score', { score: known, points: quiz.points })
      return box
    }
    box.textContent = t('liveQuiz.score.loading')
    void run(this.ctx, { type: 'quiz.result', quiz_id: quiz.id }).then((ack) => {
      if (!ack) return
      this.scores.set(quiz.id, (ack.score as number | null | undefined) ?? null)
      this.render()
    })
    return box
  }

  private hostActions(quiz: Quiz, state: string): HTMLElement {
    const actions = h('div.row.wrap')
    const send = (type: 'quiz.close' | 'quiz.reveal' | 'quiz.grade') => () => void run(this.ctx, { type, quiz_id: quiz.id })
    if (state === 'open') actions.appendChild(h('button', { type: 'button', onclick: send('quiz.close') }, t('liveQuiz.close')))
    if (!quiz.revealed) actions.appendChild(h('button', { type: 'button', onclick: send('quiz.reveal') }, t('liveQuiz.reveal')))
    if (state !== 'open') {
      actions.appendChild(h('button', { type: 'button', onclick: send('quiz.grade') }, t(quiz.graded ? 'liveQuiz.regrade' : 'liveQuiz.grade')))
    }
    if (quiz.graded) actions.appendChild(h('span.small.muted', { 'data-testid': 'quiz-graded' }, t('liveQuiz.graded')))
    return actions
  }
}

function expired(quiz: Quiz): boolean {
  return quiz.closes_at !== null && Date.parse(quiz.closes_at) <= Date.now()
}

/** The right answer of a revealed question, in words. */
export function rightAnswer(key: Record<string, unknown>): string {
  const choices = (key.choices as { id: string; text: string }[] | undefined) ?? []
  const text = (id: unknown): string => choices.find((c) => c.id === id)?.text ?? String(id)
  switch (key.type) {
    case 'single_choice':
      return text(key.answer)
    case 'multiple_choice':
      return (key.answers as string[]).map(text).join(', ')
    case 'true_false':
      return t(key.answer ? 'quiz.true' : 'quiz.false')
    case 'numeric': {
      const tolerance = Number(key.tolerance ?? 0)
      return `${String(key.value)}${tolerance ? ` ± ${String(key.tolerance)}` : ''}${key.unit ? ` ${String(key.unit)}` : ''}`
    }
    case 'short_answer':
      return ((key.accepted as { text: string }[] | undefined) ?? []).map((a) => a.text).join(' / ')
    default:
      return ''
  }
}
