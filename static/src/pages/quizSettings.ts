// A quiz's settings (/courses/{id}/quizzes/new and /courses/{id}/quizzes/{quiz}/edit):
// title and instructions, the slots (a fixed question, or a number drawn from a bank by
// tag), time limit, attempts and which score is kept, the availability window and due date,
// shuffling, when results and correct answers are released, publishing; and, once the quiz
// exists, accommodations per student (extra time, extra attempts).

import * as api from '../api'
import { announce, fill, h } from '../dom'
import { formatNumber, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { type Bank, type Question, type QuizSettings, type Slot, authoring } from './authoringApi'
import { toLocalInput } from './course'
import { FormErrors, checkbox, field, group, numberInput, numberOf, select, textArea, textInput } from './formkit'
import { topbar } from './shell'

const RELEASES = ['immediately', 'after_due', 'manual', 'never'] as const

function readable(error: unknown): string {
  return error instanceof api.ApiError ? error.readable : error instanceof Error ? error.message : String(error)
}

function isoOf(input: HTMLInputElement): string | null {
  return input.value ? new Date(input.value).toISOString() : null
}

export function quizSettingsPage(courseId: string, quizId: string | null, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', { tabIndex: -1 }, quizId ? t('author.quizSettings') : t('author.newQuiz'))
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('author.loading')))
  const back = `/courses/${courseId}/questions`

  async function load(): Promise<void> {
    const [quiz, banks] = await Promise.all([quizId ? authoring.quiz(quizId) : Promise.resolve(null), authoring.banks(courseId)])
    const questions = (await Promise.all(banks.map((b) => authoring.questions(b.id)))).flat()
    if (quiz) {
      heading.textContent = t('author.settingsOf', { title: quiz.title })
      document.title = t('app.titleSuffix', { title: heading.textContent })
    }
    body.setAttribute('aria-busy', 'false')
    fill(body, settingsForm(quiz, banks, questions), quiz ? await accommodations(quiz) : null)
  }

  function settingsForm(quiz: QuizSettings | null, banks: Bank[], questions: Question[]): HTMLElement {
    const errors = new FormErrors()
    const byId = new Map(questions.map((q) => [q.id, q]))
    const bankTitle = new Map(banks.map((b) => [b.id, b.title]))
    const title = textInput(quiz?.title ?? '', { required: true, maxlength: 200 })
    const instructions = textArea(quiz?.instructions ?? '', 3)
    const slots: Slot[] = [...(quiz?.slots ?? [])]
    const slotList = h('ol.stack.tight', { 'data-testid': 'slots' })
    const describe = (slot: Slot): string =>
      'question_id' in slot
        ? t('author.slotQuestion', { title: byId.get(slot.question_id)?.title ?? slot.question_id })
        : t('author.slotDraw', { count: slot.count, bank: bankTitle.get(slot.bank_id) ?? '', tags: slot.tags.length ? slot.tags.join(', ') : t('author.anyTag') })
    const drawSlots = (): void => {
      errors.forget('slots')
      fill(
        slotList,
        slots.length
          ? slots.map((slot, index) => {
              const text = describe(slot)
              const error = h('p.field-error', { hidden: true })
              const row = h(
                'li.stack.tight',
                { tabIndex: -1 },
                h(
                  'div.row.wrap',
                  null,
                  h('span.grow', null, `${index + 1}. ${text}`),
                  h('button', { type: 'button', disabled: index === 0, 'aria-label': t('author.slotUp', { number: index + 1 }), onclick: () => move(index, -1) }, '↑'),
                  h('button', { type: 'button', disabled: index === slots.length - 1, 'aria-label': t('author.slotDown', { number: index + 1 }), onclick: () => move(index, 1) }, '↓'),
                  h('button', { type: 'button', 'aria-label': t('author.slotRemove', { number: index + 1 }), onclick: () => { slots.splice(index, 1); drawSlots(); announce(t('author.slotRemoved')) } }, '×'),
                ),
                error,
              )
              errors.attach(`slots.${index}`, row, error)
              return row
            })
          : h('li.muted', null, t('author.noSlots')),
      )
    }
    const move = (index: number, by: number): void => {
      ;[slots[index], slots[index + by]] = [slots[index + by], slots[index]]
      drawSlots()
      slotList.querySelectorAll<HTMLElement>('li')[index + by]?.querySelector<HTMLButtonElement>(by < 0 ? 'button' : 'button:nth-of-type(2)')?.focus()
    }
    drawSlots()
    const live = questions.filter((q) => !q.archived)
    const pick = h(
      'select',
      null,
      banks.map((b) => h('optgroup', { label: b.title }, live.filter((q) => q.bank_id === b.id).map((q) => h('option', { value: q.id }, `${q.title} (${t(`author.type.${q.type}` as 'author.type.essay')})`)))),
    )
    const addQuestion = h('button', { type: 'button', onclick: () => { if (!pick.value) return; slots.push({ question_id: pick.value }); drawSlots(); announce(t('author.slotAdded')) } }, t('author.addQuestionSlot'))
    const drawBank = select(banks.map((b) => [b.id, b.title]), banks[0]?.id ?? '')
    const drawTags = textInput('')
    const drawCount = numberInput(1)
    const addDraw = h(
      'button',
      {
        type: 'button',
        onclick: () => {
          const count = numberOf(drawCount)
          if (!drawBank.value) return
          slots.push({ bank_id: drawBank.value, count: typeof count === 'number' ? count : 1, tags: drawTags.value.split(',').map((x) => x.trim()).filter(Boolean) })
          drawSlots()
          announce(t('author.slotAdded'))
        },
      },
      t('author.addDrawSlot'),
    )
    const minutes = numberInput(quiz?.time_limit_seconds ? quiz.time_limit_seconds / 60 : '')
    const attempts = numberInput(quiz ? (quiz.max_attempts ?? '') : 1)
    const keep = select(
      (['highest', 'latest', 'average'] as const).map((k) => [k, t(`author.keep.${k}`)]),
      quiz?.keep ?? 'highest',
    )
    const from = h('input', { type: 'datetime-local', value: quiz?.available_from ? toLocalInput(quiz.available_from) : '' })
    const until = h('input', { type: 'datetime-local', value: quiz?.available_until ? toLocalInput(quiz.available_until) : '' })
    const due = h('input', { type: 'datetime-local', value: quiz?.due_at ? toLocalInput(quiz.due_at) : '' })
    const shuffle = checkbox(quiz?.shuffle_questions ?? false)
    const results = select(RELEASES.map((k) => [k, t(`author.release.${k}`)]), quiz?.results_release ?? 'immediately')
    const answers = select(RELEASES.map((k) => [k, t(`author.release.${k}`)]), quiz?.answers_release ?? 'manual')
    const published = checkbox(quiz?.published ?? false)
    const status = h('p', { role: 'status', 'data-testid': 'settings-status' })
    const save = h('button.primary', { type: 'submit', 'data-testid': 'save-quiz' }, quiz ? t('author.saveChanges') : t('author.createQuiz'))
    return h(
      'form.stack',
      {
        novalidate: true,
        onsubmit: async (event: Event) => {
          event.preventDefault()
          errors.clear()
          fill(status)
          const limit = numberOf(minutes)
          const tries = numberOf(attempts)
          const payload = {
            title: title.value.trim(),
            instructions: instructions.value,
            slots,
            time_limit_seconds: typeof limit === 'number' ? Math.round(limit * 60) : limit,
            max_attempts: tries,
            keep: keep.value,
            available_from: isoOf(from),
            available_until: isoOf(until),
            due_at: isoOf(due),
            shuffle_questions: shuffle.checked,
            results_release: results.value,
            answers_release: answers.value,
            published: published.checked,
          }
          save.disabled = true
          try {
            if (quiz) {
              await authoring.updateQuiz(quiz.id, payload)
              fill(status, published.checked ? t('author.quizSavedPublished') : t('author.quizSaved'))
            } else {
              const made = await authoring.addQuiz(courseId, payload)
              announce(t('author.quizCreated'))
              navigate(`/courses/${courseId}/quizzes/${made.id}/edit`, true)
            }
          } catch (error) {
            errors.show(error)
          } finally {
            save.disabled = false
          }
        },
      },
      errors.summary,
      field(t('author.quizTitle'), title, { key: 'title', errors }),
      field(t('author.instructions'), instructions, { key: 'instructions', errors }),
      group(t('author.slots'), [
        slotList,
        h('div.row.wrap.end-align', null, field(t('author.pickQuestion'), pick), addQuestion),
        h('div.row.wrap.end-align', null, field(t('author.drawBank'), drawBank), field(t('author.drawTags'), drawTags, { hint: t('author.commaSeparated') }), field(t('author.drawCount'), drawCount), addDraw),
      ], { key: 'slots', errors }),
      h(
        'div.grid-2',
        null,
        field(t('author.timeLimit'), minutes, { key: 'time_limit_seconds', errors, hint: t('author.timeLimitHint') }),
        field(t('author.attempts'), attempts, { key: 'max_attempts', errors, hint: t('author.attemptsHint') }),
        field(t('author.keep'), keep, { key: 'keep', errors }),
        field(t('author.dueAt'), due, { key: 'due_at', errors }),
        field(t('author.availableFrom'), from, { key: 'available_from', errors }),
        field(t('author.availableUntil'), until, { key: 'available_until', errors }),
        field(t('author.resultsRelease'), results, { key: 'results_release', errors }),
        field(t('author.answersRelease'), answers, { key: 'answers_release', errors }),
      ),
      field(t('author.shuffleQuestions'), shuffle, { inline: true, key: 'shuffle_questions', errors }),
      field(t('author.publish'), published, { inline: true, key: 'published', errors, hint: t('author.publishHint') }),
      h('div.row.wrap', null, save, quiz ? h('a', { href: `/courses/${courseId}/quizzes/${quiz.id}/results`, 'data-link': '' }, t('author.results')) : null),
      status,
    )
  }

  async function accommodations(quiz: QuizSettings): Promise<HTMLElement> {
    const [given, roster] = await Promise.all([authoring.accommodations(quiz.id), authoring.roster(courseId)])
    const students = roster.filter((m) => m.role === 'student')
    const name = new Map(students.map((m) => [m.user_id, m.name || m.email || m.user_id]))
    const errors = new FormErrors()
    const who = select(students.map((m) => [m.user_id, m.name || m.email || m.user_id]), students[0]?.user_id ?? '')
    const extraMinutes = numberInput(0)
    const extraAttempts = numberInput(0)
    const list = h('ul.stack.tight.plain', { 'data-testid': 'accommodations' })
    const draw = (): void => {
      fill(
        list,
        given.length
          ? given.map((a) => h('li', null, t('author.accommodationLine', { name: name.get(a.user_id) ?? a.user_id, minutes: formatNumber(Math.round(a.extra_seconds / 60)), attempts: a.extra_attempts })))
          : h('li.muted', null, t('author.noAccommodations')),
      )
    }
    draw()
    return h(
      'section.card.stack',
      { 'aria-labelledby': 'accommodations-heading' },
      h('h2#accommodations-heading', null, t('author.accommodations')),
      list,
      students.length
        ? h(
            'form.row.wrap.end-align',
            {
              novalidate: true,
              onsubmit: async (event: Event) => {
                event.preventDefault()
                errors.clear()
                const mins = numberOf(extraMinutes)
                const body = { extra_seconds: typeof mins === 'number' ? Math.round(mins * 60) : (mins as unknown as number), extra_attempts: numberOf(extraAttempts) as number }
                try {
                  const saved = await authoring.accommodate(quiz.id, who.value, { extra_seconds: body.extra_seconds ?? 0, extra_attempts: body.extra_attempts ?? 0 })
                  const at = given.findIndex((a) => a.user_id === saved.user_id)
                  if (at >= 0) given[at] = saved
                  else given.push(saved)
                  draw()
                  announce(t('author.accommodationSaved', { name: name.get(saved.user_id) ?? '' }))
                } catch (error) {
                  errors.show(error)
                }
              },
            },
            errors.summary,
            field(t('author.student'), who),
            field(t('author.extraMinutes'), extraMinutes, { key: 'extra_seconds', errors }),
            field(t('author.extraAttempts'), extraAttempts, { key: 'extra_attempts', errors }),
            h('button', { type: 'submit' }, t('author.saveAccommodation')),
          )
        : h('p.muted', null, t('author.noStudents')),
    )
  }

  void load().catch((error: unknown) => {
    body.setAttribute('aria-busy', 'false')
    fill(body, h('p.error', { role: 'alert' }, readable(error)))
  })
  return {
    title: t('author.quizSettings'),
    el: h('div', null, topbar(user, navigate), h('main#main.page.stack.authoring', null, h('p', null, h('a', { href: back, 'data-link': '' }, t('author.backToBank'))), heading, body)),
  }
}
