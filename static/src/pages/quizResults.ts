// A quiz's results for its graders: the score distribution (a bar chart with the same
// figures in a table beside it), each question's difficulty and discrimination, the average
// time, and the answers waiting for a grader (essays...) with a score and a comment each.

import * as api from '../api'
import { announce, fill, h, s } from '../dom'
import { formatDuration, formatNumber, formatPercent, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'

interface Statistics {
  attempts: number
  mean_percent: number | null
  distribution: number[]
  average_seconds: number | null
  items: { question_id: string; title: string; answered: number; difficulty: number | null; discrimination: number | null }[]
}

interface GradingItem {
  attempt_id: string
  user_id: string
  question_id: string
  response: Record<string, unknown> | null
  points: number
}

interface GradingPage {
  question: { id: string; title: string; type: string; definition: { prompt?: string } }
  items: GradingItem[]
}

function readable(error: unknown): string {
  return error instanceof api.ApiError ? error.readable : error instanceof Error ? error.message : String(error)
}

function band(index: number): string {
  return t('results.band', { from: index * 10, to: index === 9 ? 100 : index * 10 + 9 })
}

function chart(distribution: number[]): SVGElement {
  const most = Math.max(1, ...distribution)
  return s(
    'svg',
    { viewBox: '0 0 200 100', class: 'histogram', 'aria-hidden': 'true', focusable: 'false' },
    ...distribution.map((count, index) => {
      const height = (count / most) * 90
      return s('rect', { x: String(index * 20 + 2), y: String(95 - height), width: '16', height: String(height), class: 'bar' })
    }),
  )
}

export function quizResultsPage(courseId: string, quizId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', { tabIndex: -1 }, t('results.title'))
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('results.loading')))

  async function load(): Promise<void> {
    const quiz = await api.request<{ title: string }>('GET', `/api/v1/quizzes/${quizId}`)
    heading.textContent = t('results.heading', { title: quiz.title })
    document.title = t('app.titleSuffix', { title: heading.textContent })
    const stats = await api.request<Statistics>('GET', `/api/v1/quizzes/${quizId}/statistics`)
    const queues = await Promise.all(
      stats.items.map((item) => api.request<GradingPage>('GET', `/api/v1/quizzes/${quizId}/grading?question_id=${item.question_id}`)),
    )
    body.setAttribute('aria-busy', 'false')
    fill(
      body,
      h(
        'section.card.stack',
        { 'aria-labelledby': 'distribution-heading' },
        h('h2#distribution-heading', null, t('results.distribution')),
        h(
          'p',
          null,
          t('results.summary', {
            count: stats.attempts,
            mean: stats.mean_percent === null ? '—' : formatPercent(stats.mean_percent / 100),
            time: stats.average_seconds === null ? '—' : formatDuration(Math.round(stats.average_seconds)),
          }),
        ),
        h(
          'div.chart-and-table',
          null,
          chart(stats.distribution),
          h(
            'table',
            { 'data-testid': 'distribution' },
            h('caption', null, t('results.distribution')),
            h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('results.scoreBand')), h('th', { scope: 'col' }, t('results.attempts')))),
            h('tbody', null, stats.distribution.map((count, index) => h('tr', null, h('th', { scope: 'row' }, band(index)), h('td', null, formatNumber(count))))),
          ),
        ),
      ),
      h(
        'section.card.stack',
        { 'aria-labelledby': 'items-heading' },
        h('h2#items-heading', null, t('results.items')),
        h(
          'div.table-scroll',
          null,
          h(
            'table',
            { 'data-testid': 'items' },
            h('thead', null, h('tr', null, ...['results.question', 'results.answered', 'results.difficulty', 'results.discrimination'].map((k) => h('th', { scope: 'col' }, t(k as 'results.question'))))),
            h(
              'tbody',
              null,
              stats.items.map((item) =>
                h(
                  'tr',
                  null,
                  h('th', { scope: 'row' }, item.title),
                  h('td', null, formatNumber(item.answered)),
                  h('td', null, item.difficulty === null ? '—' : formatPercent(item.difficulty)),
                  h('td', null, item.discrimination === null ? '—' : formatNumber(item.discrimination)),
                ),
              ),
            ),
          ),
        ),
      ),
      h(
        'section.card.stack',
        { 'aria-labelledby': 'grading-heading' },
        h('h2#grading-heading', null, t('results.toGrade')),
        queues.every((q) => !q.items.length) ? h('p.muted', null, t('results.nothingToGrade')) : null,
        queues.filter((q) => q.items.length).map((q) => h('div.stack', null, h('h3', null, q.question.title), q.items.map((item, index) => gradeForm(q, item, index)))),
      ),
    )
  }

  function gradeForm(queue: GradingPage, item: GradingItem, index: number): HTMLElement {
    const label = t('results.answerNumber', { number: index + 1 })
    const id = `grade-${item.attempt_id}-${item.question_id}`
    const score = h('input', { id: `${id}-score`, type: 'number', min: 0, max: item.points, step: 0.25, required: true })
    const comment = h('textarea', { id: `${id}-comment`, rows: 2 })
    const status = h('p', { role: 'status' })
    const text = item.response ? String(item.response.text ?? item.response.code ?? JSON.stringify(item.response)) : t('results.noAnswer')
    return h(
      'form.card.stack',
      {
        'aria-label': `${queue.question.title}: ${label}`,
        onsubmit: async (event: Event) => {
          event.preventDefault()
          try {
            await api.request('POST', `/api/v1/attempts/${item.attempt_id}/questions/${item.question_id}/grade`, {
              json: { score: Number(score.value), comment: comment.value || null },
            })
            fill(status, t('results.graded'))
            announce(t('results.graded'))
          } catch (error) {
            fill(status, h('span.error', null, readable(error)))
          }
        },
      },
      h('blockquote.answer', null, text),
      h('label', { for: score.id }, t('results.score', { points: formatNumber(item.points) })),
      score,
      h('label', { for: comment.id }, t('results.comment')),
      comment,
      h('button.primary', { type: 'submit' }, t('results.save')),
      status,
    )
  }

  void load().catch((error: unknown) => {
    body.setAttribute('aria-busy', 'false')
    fill(body, h('p.error', { role: 'alert' }, readable(error)))
  })
  return {
    title: t('results.title'),
    el: h('div', null, topbar(user, navigate), h('main#main.page.stack', null, h('p', null, h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('quiz.back'))), heading, body)),
  }
}
