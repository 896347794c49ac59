// Taking a quiz: start or resume the attempt, answer with question navigation, autosave with
// an indicator, a timer that announces 5 and 1 minutes left, and submission.
//
// Every change is queued on this device (localStorage) with a growing sequence number before
// it is sent, so answers survive a lost connection or a reload: the queue is resent when the
// browser is back online and on the next visit. The server keeps the newest save per answer
// and ends the attempt at its deadline whatever the browser does; the page then shows what
// the server counted.

import * as api from '../api'
import { announce, fill, h, readPref, removePref, writePref } from '../dom'
import { formatClock, formatDateTime, formatNumber, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { type Answer, type Attempt, quizzes } from './quizApi'
import { questionInput } from './quizInputs'
import { codeRunner } from './quizRun'
import { topbar } from './shell'

const RETRY_MS = 3000
const SAVE_DELAY_MS = 600
const BACKOFF_MAX_MS = 30_000

/** How long to wait before trying again after a refusal: the server's Retry-After when it
 * gave one (a busy server answers 503), doubling with each refusal in a row (capped), with
 * jitter so a class of students does not come back at the same instant. */
function backoffMs(error: unknown, failures: number): number {
  const asked = error instanceof api.ApiError && error.retryAfter !== null ? error.retryAfter * 1000 : RETRY_MS
  const grown = Math.min(BACKOFF_MAX_MS, asked * 2 ** Math.max(0, failures - 1))
  return grown / 2 + Math.random() * (grown / 2) + asked / 2
}

/** Whether a failed request is worth sending again as it is (offline, busy, a server error). */
function retryable(error: unknown): boolean {
  return !(error instanceof api.ApiError) || error.status >= 500 || error.status === 429
}

/** ``call`` again after each retryable refusal (backing off as ``backoffMs``), ``tries`` times. */
async function withRetry<T>(call: () => Promise<T>, tries = 6): Promise<T> {
  for (let failures = 1; ; failures += 1) {
    try {
      return await call()
    } catch (error) {
      if (failures >= tries || !retryable(error)) throw error
      await new Promise((done) => setTimeout(done, backoffMs(error, failures)))
    }
  }
}
const WARNINGS = [300, 60]

interface Queue {
  seq: number
  answers: Record<string, Answer>
}

function readable(error: unknown): string {
  return error instanceof api.ApiError ? error.readable : error instanceof Error ? error.message : String(error)
}

function queueKey(attemptId: string): string {
  return `liveclass.quiz.${attemptId}`
}

function loadQueue(attemptId: string, attempt: Attempt): Queue {
  const floor = Math.max(0, ...attempt.questions.map((q) => q.seq))
  try {
    const stored = JSON.parse(readPref(queueKey(attemptId)) ?? 'null') as Queue | null
    if (stored && typeof stored.seq === 'number') return { seq: Math.max(stored.seq, floor), answers: stored.answers ?? {} }
  } catch {
    // a damaged queue is dropped; the server has every answer it confirmed
  }
  return { seq: floor, answers: {} }
}

export function quizPage(courseId: string, quizId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', { tabIndex: -1 }, t('quiz.title'))
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('quiz.loading')))
  const saveStatus = h('p.save-status', { role: 'status', 'data-testid': 'save-status' })
  const timer = h('p.timer', { 'data-testid': 'timer', 'aria-live': 'off' })
  let ticking: number | undefined
  let retrying: number | undefined
  let saving: number | undefined
  let destroyed = false
  let refusals = 0 // autosaves refused in a row (busy server, offline)
  let notBefore = 0 // no autosave before this time (ms): the server asked us to wait

  async function intro(): Promise<void> {
    const mine = await quizzes.mine(quizId)
    heading.textContent = mine.quiz.title
    document.title = t('app.titleSuffix', { title: mine.quiz.title })
    if (mine.active_attempt) return take(await quizzes.attempt(mine.active_attempt))
    const limit = mine.quiz.time_limit_seconds
    const canStart = mine.attempts_left === null || mine.attempts_left > 0
    body.setAttribute('aria-busy', 'false')
    fill(
      body,
      mine.quiz.instructions ? h('p', null, mine.quiz.instructions) : null,
      h(
        'ul',
        null,
        h('li', null, limit ? t('quiz.timeLimit', { minutes: formatNumber(Math.round((limit + mine.extra_seconds) / 60)) }) : t('quiz.noTimeLimit')),
        h('li', null, mine.attempts_left === null ? t('quiz.unlimited') : t('quiz.attemptsLeft', { count: mine.attempts_left })),
        mine.quiz.due_at ? h('li', null, t('quiz.due', { when: formatDateTime(mine.quiz.due_at) })) : null,
        mine.score !== null ? h('li', { 'data-testid': 'kept-score' }, t('quiz.kept', { score: formatNumber(mine.score) })) : null,
      ),
      canStart
        ? h('button.primary', { type: 'button', 'data-testid': 'start', onclick: async () => take(await withRetry(() => quizzes.start(quizId))) }, mine.attempts.length ? t('quiz.startAgain') : t('quiz.start'))
        : h('p.muted', null, t('quiz.noAttemptsLeft')),
    )
  }

  function result(attempt: Attempt): void {
    clearInterval(ticking)
    clearInterval(retrying)
    removePref(queueKey(attempt.id))
    fill(timer)
    fill(saveStatus)
    body.setAttribute('aria-busy', 'false')
    const score = attempt.score === null ? h('p', null, t('quiz.scoreLater')) : h('p.score', { 'data-testid': 'score' }, t('quiz.score', { score: formatNumber(attempt.score), points: formatNumber(attempt.points) }))
    fill(
      body,
      h('p', { role: 'status', 'data-testid': 'submitted' }, attempt.submitted_by === 'deadline' ? t('quiz.endedByTime') : t('quiz.submitted')),
      score,
      attempt.pending ? h('p.muted', null, t('quiz.pending', { count: attempt.pending })) : null,
      h('p', null, h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('quiz.back'))),
    )
    announce(attempt.submitted_by === 'deadline' ? t('quiz.endedByTime') : t('quiz.submitted'))
  }

  function take(attempt: Attempt): void {
    if (attempt.status === 'submitted') return result(attempt)
    const queue = loadQueue(attempt.id, attempt)
    const inputs = new Map<string, () => Answer | null>()
    const persist = (): void => {
      writePref(queueKey(attempt.id), JSON.stringify(queue))
    }

    const changed = (questionId: string): void => {
      const read = inputs.get(questionId)
      const answer = read?.()
      if (!answer) return
      queue.seq += 1
      queue.answers[questionId] = answer
      persist()
      markAnswered(questionId)
      fill(saveStatus, t('quiz.saving'))
      clearTimeout(saving)
      saving = window.setTimeout(() => void flush(), SAVE_DELAY_MS)
    }

    async function flush(): Promise<boolean> {
      const pending = { ...queue.answers }
      if (!Object.keys(pending).length) return true
      if (Date.now() < notBefore) return false // backing off: the retry timer sends it later
      const seq = queue.seq
      try {
        await quizzes.save(attempt.id, seq, pending)
        for (const [id, answer] of Object.entries(pending)) if (queue.answers[id] === answer) delete queue.answers[id]
        persist()
        refusals = 0
        fill(saveStatus, t('quiz.saved'))
        return true
      } catch (error) {
        if (retryable(error)) {
          refusals += 1
          notBefore = Date.now() + backoffMs(error, refusals)
        }
        if (error instanceof api.ApiError && error.status === 409) {
          result(await quizzes.attempt(attempt.id))
          return false
        }
        if (error instanceof api.ApiError && error.status < 500 && error.status !== 429) {
          fill(saveStatus, h('span.error', null, readable(error)))
          return false
        }
        fill(saveStatus, error instanceof api.ApiError ? t('quiz.busy') : t('quiz.offline'))
        return false
      }
    }

    const nav = h('nav.quiz-nav', { 'aria-label': t('quiz.questions') })
    const answered = new Set(attempt.questions.filter((q) => q.answer).map((q) => q.id))
    const markAnswered = (id: string): void => {
      answered.add(id)
      const link = nav.querySelector<HTMLAnchorElement>(`a[data-question="${id}"]`)
      if (link) link.setAttribute('aria-label', t('quiz.navAnswered', { number: link.textContent ?? '' }))
      link?.classList.add('answered')
    }
    const sections = attempt.questions.map((q, index) => {
      const number = index + 1
      const label = t('quiz.questionNumber', { number })
      const local = queue.answers[q.id]
      const input = questionInput(q.id, q.view, local ?? q.answer, label, () => changed(q.id), { courseId, attemptId: attempt.id })
      inputs.set(q.id, input.read)
      if (local) answered.add(q.id)
      return h(
        'section.card.question',
        { id: `question-${number}`, 'aria-labelledby': `question-${number}-label`, 'data-question': q.id },
        h('h2', { id: `question-${number}-label` }, label, h('span.muted.small', null, ` · ${t('quiz.points', { count: q.view.points })}`)),
        h('p.prompt', null, q.view.prompt),
        input.el,
        q.view.type === 'python_code' ? codeRunner(attempt.id, q.id, q.view, () => String(input.read()?.code ?? ''), number) : null,
      )
    })
    fill(
      nav,
      h(
        'ol.row.wrap',
        null,
        attempt.questions.map((q, index) =>
          h(
            'li',
            null,
            h('a', { href: `#question-${index + 1}`, 'data-question': q.id, class: answered.has(q.id) ? 'answered' : '', 'aria-label': answered.has(q.id) ? t('quiz.navAnswered', { number: index + 1 }) : t('quiz.navOpen', { number: index + 1 }) }, String(index + 1)),
          ),
        ),
      ),
    )
    const submit = h(
      'button.primary',
      {
        type: 'button',
        'data-testid': 'submit',
        onclick: async () => {
          submit.disabled = true
          try {
            clearTimeout(saving)
            result(await withRetry(() => quizzes.submit(attempt.id, queue.seq, { ...queue.answers })))
          } catch (error) {
            submit.disabled = false
            announce(readable(error), 'assertive')
          }
        },
      },
      t('quiz.submit'),
    )
    body.setAttribute('aria-busy', 'false')
    fill(body, h('div.quiz-bar.row.wrap', null, timer, saveStatus), nav, h('form.stack', { onsubmit: (e: Event) => e.preventDefault() }, sections), submit)
    fill(saveStatus, Object.keys(queue.answers).length ? t('quiz.saving') : t('quiz.allSaved'))
    if (Object.keys(queue.answers).length) void flush()
    retrying = window.setInterval(() => {
      if (Object.keys(queue.answers).length && navigator.onLine) void flush()
    }, RETRY_MS)
    window.addEventListener('online', () => void flush())
    if (attempt.deadline) startTimer(attempt.id, Date.parse(attempt.deadline))
  }

  function startTimer(attemptId: string, deadline: number): void {
    const warned = new Set<number>()
    const tick = (): void => {
      const left = Math.max(0, Math.round((deadline - Date.now()) / 1000))
      fill(timer, t('quiz.timeLeft', { time: formatClock(left) }))
      for (const mark of WARNINGS) {
        if (left <= mark && left > 0 && !warned.has(mark)) {
          warned.add(mark)
          announce(t('quiz.warning', { minutes: mark / 60 }), 'assertive')
        }
      }
      if (left === 0) {
        clearInterval(ticking)
        void ended(attemptId)
      }
    }
    for (const mark of WARNINGS) if ((deadline - Date.now()) / 1000 <= mark) warned.add(mark)
    tick()
    ticking = window.setInterval(tick, 1000)
  }

  async function ended(attemptId: string): Promise<void> {
    fill(saveStatus, t('quiz.timeUp'))
    for (;;) {
      if (destroyed) return
      try {
        const after = await quizzes.attempt(attemptId)
        if (after.status === 'submitted') return result(after)
      } catch {
        // offline: try again until the server answers
      }
      await new Promise((done) => setTimeout(done, RETRY_MS))
    }
  }

  // The course's staff do not take its quizzes: they get the results and the settings.
  async function staffView(error: unknown): Promise<boolean> {
    if (!(error instanceof api.ApiError) || error.status !== 403) return false
    const course = await api.request<api.Course>('GET', `/api/v1/courses/${courseId}`).catch(() => null)
    const staff = course?.my_role === 'instructor' || course?.my_role === 'ta' || (!course?.my_role && user.role === 'admin')
    if (!staff) return false
    const quiz = await api.request<{ title: string }>('GET', `/api/v1/quizzes/${quizId}`).catch(() => null)
    if (quiz) heading.textContent = quiz.title
    body.setAttribute('aria-busy', 'false')
    fill(
      body,
      h('p', null, t('quiz.staffResults')),
      h(
        'p.row.wrap',
        null,
        h('a.button.primary', { href: `/courses/${courseId}/quizzes/${quizId}/results`, 'data-link': '', 'data-testid': 'staff-results' }, t('author.results')),
        h('a.button', { href: `/courses/${courseId}/quizzes/${quizId}/edit`, 'data-link': '' }, t('quiz.staffSettings')),
      ),
    )
    return true
  }

  void intro().catch(async (error: unknown) => {
    if (await staffView(error)) return
    body.setAttribute('aria-busy', 'false')
    fill(body, h('p.error', { role: 'alert' }, readable(error)))
  })
  return {
    title: t('quiz.title'),
    destroy: () => {
      destroyed = true
      clearInterval(ticking)
      clearInterval(retrying)
      clearTimeout(saving)
    },
    el: h('div', null, topbar(user, navigate), h('main#main.page.stack.quiz', null, h('p', null, h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('quiz.back'))), heading, body)),
  }
}
