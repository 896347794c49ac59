// The "Run" button of a Python code question while taking a quiz: the learner's current code
// goes to the server's sandbox (POST /attempts/{id}/questions/{qid}/run), which runs it
// against the question's visible tests only (hidden tests never enter a practice run); the
// verdicts and the output appear in a live region. A run neither saves nor grades: the
// answer is saved by the quiz's autosave and graded on submit. The server throttles runs
// (429 with Retry-After): the button then waits out the time it was told.

import * as api from '../api'
import { fill, h } from '../dom'
import { formatNumber, t } from '../i18n'
import { type CodeRun, quizzes, type QuestionView } from './quizApi'

interface VisibleTest {
  name: string
  source: string
}

/** The visible tests, the Run button and the run's result for one code question. */
export function codeRunner(attemptId: string, questionId: string, view: QuestionView, code: () => string, number: number): HTMLElement {
  const tests = (view.visible_tests as VisibleTest[] | undefined) ?? []
  const hidden = Number(view.hidden_tests ?? 0)
  const result = h('div.stack.run-result', { role: 'status', 'aria-live': 'polite', 'data-testid': 'run-result' })
  const button = h('button', { type: 'button', 'data-testid': 'run-code', 'aria-describedby': `run-hint-${number}` }, t('quiz.run.button', { number }))
  let waitUntil = 0

  function show(run: CodeRun): void {
    const passed = run.tests.filter((test) => test.passed).length
    const names = new Map(run.tests.map((test, index) => [test.id, tests[index]?.name ?? test.id]))
    fill(
      result,
      h('p', { 'data-testid': 'run-status' }, run.status === 'completed' ? t('quiz.run.passed', { passed, total: run.tests.length }) : t(`quiz.run.status.${run.status}`)),
      run.tests.length
        ? h(
            'ul',
            { 'aria-label': t('quiz.run.verdicts') },
            run.tests.map((test) =>
              h('li', { class: test.passed ? 'ok' : 'error' }, `${test.passed ? t('quiz.run.pass') : t('quiz.run.fail')}: ${names.get(test.id) ?? test.id}`, test.message ? h('pre.run-text', null, test.message) : null),
            ),
          )
        : null,
      h('h3.small', null, t('quiz.run.output')),
      h('pre.run-text', { 'data-testid': 'run-output', tabIndex: 0, 'aria-label': t('quiz.run.output') }, run.output || t('quiz.run.noOutput')),
      h('p.muted.small', null, t('quiz.run.took', { ms: formatNumber(run.duration_ms) })),
    )
  }

  button.addEventListener('click', async () => {
    if (Date.now() < waitUntil) {
      fill(result, h('p', null, t('quiz.run.wait', { seconds: Math.ceil((waitUntil - Date.now()) / 1000) })))
      return
    }
    button.disabled = true
    button.setAttribute('aria-busy', 'true')
    fill(result, h('p', null, t('quiz.run.running')))
    try {
      show(await quizzes.run(attemptId, questionId, code()))
    } catch (error) {
      if (error instanceof api.ApiError && error.status === 429) {
        const seconds = error.retryAfter ?? 30
        waitUntil = Date.now() + seconds * 1000
        fill(result, h('p.error', null, t('quiz.run.wait', { seconds })))
      } else {
        fill(result, h('p.error', null, error instanceof api.ApiError ? error.readable : t('quiz.run.unreachable')))
      }
    } finally {
      button.disabled = false
      button.removeAttribute('aria-busy')
    }
  })

  return h(
    'div.stack.code-runner',
    null,
    tests.length
      ? h(
          'details',
          null,
          h('summary', null, t('quiz.run.tests', { count: tests.length })),
          tests.map((test) => h('div', null, h('p.small', null, test.name), h('pre.run-text', null, test.source))),
        )
      : null,
    h('div.row.wrap', null, button, h('span.muted.small', { id: `run-hint-${number}` }, hidden ? t('quiz.run.hint', { count: hidden }) : t('quiz.run.hintNone'))),
    result,
  )
}
