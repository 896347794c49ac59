// A course's question banks and quizzes for its authors (/courses/{id}/questions): pick or
// add a bank, list its questions with their type and tags, filter by tag, open one in the
// editor, add one, archive one; the course's quizzes with links to their settings and
// results, and a new quiz.

import * as api from '../api'
import { announce, confirmDialog, fill, h } from '../dom'
import { t } from '../i18n'
import type { Navigate, Page } from '../main'
import { type Bank, type Question, authoring } from './authoringApi'
import { FormErrors, field, select, textInput } from './formkit'
import { topbar } from './shell'

function readable(error: unknown): string {
  return error instanceof api.ApiError ? error.readable : error instanceof Error ? error.message : String(error)
}

export function bankPage(courseId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', { tabIndex: -1 }, t('author.bankTitle'))
  const banksBox = h('section.card.stack', { 'aria-labelledby': 'banks-heading' })
  const questionsBox = h('section.card.stack', { 'aria-labelledby': 'questions-heading' })
  const quizzesBox = h('section.card.stack', { 'aria-labelledby': 'quizzes-heading' })
  const params = new URLSearchParams(location.search)
  let banks: Bank[] = []
  let bankId = params.get('bank') ?? ''
  let tag = params.get('tag') ?? ''
  let archived = false

  async function load(): Promise<void> {
    banks = await authoring.banks(courseId)
    if (!banks.some((b) => b.id === bankId)) bankId = banks[0]?.id ?? ''
    drawBanks()
    await Promise.all([drawQuestions(), drawQuizzes()])
  }

  function drawBanks(): void {
    const errors = new FormErrors()
    const chooser = select(
      banks.map((b) => [b.id, t('author.bankOption', { title: b.title, count: b.questions })]),
      bankId,
      {
        onchange: () => {
          bankId = chooser.value
          history.replaceState(null, '', `/courses/${courseId}/questions?bank=${bankId}`)
          void drawQuestions()
        },
      },
    )
    const title = textInput('', { maxlength: 200, required: true })
    fill(
      banksBox,
      h('h2#banks-heading', null, t('author.banks')),
      banks.length ? field(t('author.bank'), chooser) : h('p.muted', null, t('author.noBanks')),
      h(
        'form.row.wrap.end-align',
        {
          novalidate: true,
          onsubmit: async (event: Event) => {
            event.preventDefault()
            try {
              const made = await authoring.addBank(courseId, title.value.trim())
              bankId = made.id
              announce(t('author.bankAdded', { title: made.title }))
              await load()
            } catch (error) {
              errors.show(error)
            }
          },
        },
        errors.summary,
        field(t('author.newBankTitle'), title, { key: 'title', errors }),
        h('button', { type: 'submit' }, t('author.addBank')),
      ),
    )
  }

  async function drawQuestions(): Promise<void> {
    if (!bankId) {
      fill(questionsBox, h('h2#questions-heading', null, t('author.questions')), h('p.muted', null, t('author.addBankFirst')))
      return
    }
    questionsBox.setAttribute('aria-busy', 'true')
    const rows = await authoring.questions(bankId, tag, archived)
    questionsBox.setAttribute('aria-busy', 'false')
    const filter = textInput(tag, { maxlength: 64 })
    const showArchived = h('input', { type: 'checkbox', checked: archived })
    fill(
      questionsBox,
      h('div.row.wrap.between', null, h('h2#questions-heading', null, t('author.questions')), h('a.button.primary', { href: `/courses/${courseId}/banks/${bankId}/questions/new`, 'data-link': '' }, t('author.newQuestion'))),
      h(
        'form.row.wrap.end-align',
        {
          role: 'search',
          'aria-label': t('author.filter'),
          onsubmit: (event: Event) => {
            event.preventDefault()
            tag = filter.value.trim()
            archived = showArchived.checked
            void drawQuestions()
          },
        },
        field(t('author.filterTag'), filter),
        field(t('author.showArchived'), showArchived, { inline: true }),
        h('button', { type: 'submit' }, t('author.applyFilter')),
      ),
      h('p.small.muted', { role: 'status' }, t('author.questionCount', { count: rows.length })),
      rows.length
        ? h(
            'div.table-scroll',
            null,
            h(
              'table',
              { 'data-testid': 'questions' },
              h('caption.sr-only', null, t('author.questions')),
              h('thead', null, h('tr', null, ...['author.questionTitle', 'author.type', 'author.tags', 'author.actions'].map((k) => h('th', { scope: 'col' }, t(k as 'author.type'))))),
              h('tbody', null, rows.map((q) => questionRow(q))),
            ),
          )
        : null,
    )
  }

  function questionRow(q: Question): HTMLElement {
    return h(
      'tr',
      { 'data-question': q.id },
      h('th', { scope: 'row' }, h('a', { href: `/courses/${courseId}/questions/${q.id}/edit`, 'data-link': '' }, q.title)),
      h('td', null, t(`author.type.${q.type}` as 'author.type.essay')),
      h('td', null, h('ul.chips.plain', null, q.tags.map((x) => h('li.badge', null, h('a', { href: `/courses/${courseId}/questions?bank=${q.bank_id}&tag=${encodeURIComponent(x)}`, onclick: (e: Event) => { e.preventDefault(); tag = x; void drawQuestions() } }, x))))),
      h(
        'td',
        null,
        q.archived
          ? h('span.muted', null, t('author.archived'))
          : h(
              'button.danger',
              {
                type: 'button',
                'aria-label': t('author.archiveNamed', { title: q.title }),
                onclick: async () => {
                  if (!(await confirmDialog(t('author.archiveTitle'), t('author.archiveBody', { title: q.title }), t('author.archive'), true))) return
                  try {
                    await authoring.archiveQuestion(q.id)
                    announce(t('author.archivedNamed', { title: q.title }))
                    await drawQuestions()
                  } catch (error) {
                    announce(readable(error), 'assertive')
                  }
                },
              },
              t('author.archive'),
            ),
      ),
    )
  }

  async function drawQuizzes(): Promise<void> {
    const quizzes = await authoring.quizzes(courseId)
    fill(
      quizzesBox,
      h('div.row.wrap.between', null, h('h2#quizzes-heading', null, t('author.quizzes')), h('a.button', { href: `/courses/${courseId}/quizzes/new`, 'data-link': '' }, t('author.newQuiz'))),
      quizzes.length
        ? h(
            'ul.stack.tight.plain',
            { 'data-testid': 'quizzes' },
            quizzes.map((q) =>
              h(
                'li.row.wrap',
                null,
                h('a.grow', { href: `/courses/${courseId}/quizzes/${q.id}/edit`, 'data-link': '' }, q.title),
                h('span.badge', null, q.published ? t('author.published') : t('author.draft')),
                h('a', { href: `/courses/${courseId}/quizzes/${q.id}/results`, 'data-link': '', 'aria-label': t('author.resultsOf', { title: q.title }) }, t('author.results')),
              ),
            ),
          )
        : h('p.muted', null, t('author.noQuizzes')),
    )
  }

  void load().catch((error: unknown) => fill(questionsBox, h('p.error', { role: 'alert' }, readable(error))))
  return {
    title: t('author.bankTitle'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h('main#main.page.stack.authoring', null, h('p', null, h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('quiz.back'))), heading, banksBox, questionsBox, quizzesBox),
    ),
  }
}
