// The question editor (/courses/{id}/banks/{bank}/questions/new and
// /courses/{id}/questions/{question}/edit): the fields every question has (title, tags,
// prompt, points, explanation), the type's own form, and a live preview rendered from
// POST /courses/{id}/question-preview with the taking page's own inputs, so the author sees
// exactly what a student will see and can check an answer against the key. The server's
// errors are shown beside their fields.

import * as api from '../api'
import { announce, fill, h } from '../dom'
import { formatNumber, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { type Question, authoring } from './authoringApi'
import { FormErrors, field, numberInput, numberOf, select, textArea, textInput } from './formkit'
import { QUESTION_TYPES, type TypeForm, typeForm } from './questionForms'
import { questionInput } from './quizInputs'
import { topbar } from './shell'

const PREVIEW_DELAY_MS = 400

function readable(error: unknown): string {
  return error instanceof api.ApiError ? error.readable : error instanceof Error ? error.message : String(error)
}

export function questionEditorPage(courseId: string, target: { bankId: string } | { questionId: string }, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', { tabIndex: -1 }, 'questionId' in target ? t('author.editQuestion') : t('author.newQuestion'))
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('author.loading')))
  const back = `/courses/${courseId}/questions`
  let previewTimer: number | undefined

  async function load(): Promise<void> {
    const existing: Question | null = 'questionId' in target ? await authoring.question(target.questionId) : null
    const bankId = existing ? existing.bank_id : (target as { bankId: string }).bankId
    render(existing, bankId)
  }

  function render(existing: Question | null, bankId: string): void {
    const errors = new FormErrors()
    const definition = existing?.definition ?? {}
    const title = textInput(existing?.title ?? '', { required: true, maxlength: 200 })
    const tags = textInput((existing?.tags ?? []).join(', '))
    const type = select(
      QUESTION_TYPES.map((k) => [k, t(`author.type.${k}`)]),
      existing?.type ?? 'single_choice',
      { disabled: Boolean(existing), onchange: () => switchType() },
    )
    const prompt = textArea(String(definition.prompt ?? ''), 3, { oninput: schedule })
    const points = numberInput((definition.points as number | undefined) ?? 1, { oninput: schedule })
    const explanation = textArea(String(definition.explanation ?? ''), 2, { oninput: schedule })
    const typeBox = h('div.stack')
    let form: TypeForm = typeForm(type.value, definition, errors, schedule)
    typeBox.append(form.el)
    const switchType = (): void => {
      errors.clear()
      form = typeForm(type.value, {}, errors, schedule)
      fill(typeBox, form.el)
      schedule()
    }
    const read = (): Record<string, unknown> => {
      const out: Record<string, unknown> = { type: type.value, prompt: prompt.value, points: numberOf(points) ?? 1, ...form.read() }
      if (explanation.value.trim()) out.explanation = explanation.value
      return out
    }
    const previewBox = h('div.stack', { 'data-testid': 'preview' })
    const previewStatus = h('p.small.muted', { role: 'status' })
    let previewRead: (() => Record<string, unknown> | null) | null = null
    async function preview(): Promise<void> {
      try {
        const shown = await authoring.preview(courseId, read())
        const input = questionInput('preview', shown.view, null, t('author.previewAnswer'), () => undefined)
        previewRead = input.read
        fill(previewBox, h('p.prompt', null, shown.view.prompt), h('p.small.muted', null, t('quiz.points', { count: shown.view.points })), input.el)
        fill(previewStatus)
      } catch (error) {
        previewRead = null
        fill(previewBox, h('p.muted', null, t('author.previewUnavailable', { reason: readable(error) })))
      }
    }
    function schedule(): void {
      clearTimeout(previewTimer)
      previewTimer = window.setTimeout(() => void preview(), PREVIEW_DELAY_MS)
    }
    const check = h(
      'button',
      {
        type: 'button',
        'data-testid': 'check-answer',
        onclick: async () => {
          const answer = previewRead?.()
          if (!answer) {
            fill(previewStatus, t('author.answerFirst'))
            return
          }
          try {
            const graded = await authoring.preview(courseId, read(), answer)
            const r = graded.result
            fill(previewStatus, r ? t('author.previewScore', { score: formatNumber(r.score), points: formatNumber(r.points) }) : '')
          } catch (error) {
            fill(previewStatus, readable(error))
          }
        },
      },
      t('author.checkAnswer'),
    )
    const saved = h('p', { role: 'status', 'data-testid': 'editor-status' })
    const save = h('button.primary', { type: 'submit', 'data-testid': 'save-question' }, existing ? t('author.saveChanges') : t('author.createQuestion'))
    const formEl = h(
      'form.stack',
      {
        novalidate: true,
        onsubmit: async (event: Event) => {
          event.preventDefault()
          errors.clear()
          save.disabled = true
          const payload = { title: title.value.trim(), tags: tags.value.split(',').map((x) => x.trim()).filter(Boolean), definition: read() }
          try {
            if (existing) {
              const changed = await authoring.updateQuestion(existing.id, payload)
              const regraded = changed.regraded_attempts
              fill(saved, regraded ? t('author.savedRegraded', { count: regraded }) : t('author.saved'))
            } else {
              const created = await authoring.addQuestion(bankId, payload)
              announce(t('author.created'))
              navigate(`/courses/${courseId}/questions/${created.id}/edit`, true)
            }
          } catch (error) {
            errors.show(error, ['definition'])
          } finally {
            save.disabled = false
          }
        },
      },
      errors.summary,
      h(
        'div.grid-2',
        null,
        field(t('author.questionTitle'), title, { key: 'title', errors, hint: t('author.titleHint') }),
        field(t('author.tags'), tags, { key: 'tags', errors, hint: t('author.commaSeparated') }),
      ),
      field(t('author.type'), type, { key: 'type', errors }),
      field(t('author.prompt'), prompt, { key: 'prompt', errors }),
      h('div.grid-2', null, field(t('author.points'), points, { key: 'points', errors }), field(t('author.explanation'), explanation, { key: 'explanation', errors, hint: t('author.explanationHint') })),
      h('section.stack', { 'aria-labelledby': 'type-fields' }, h('h2#type-fields', null, t('author.answerKey')), typeBox),
      h('div.row.wrap', null, save, h('a', { href: back, 'data-link': '' }, t('author.backToBank'))),
      saved,
    )
    body.setAttribute('aria-busy', 'false')
    fill(
      body,
      h(
        'div.editor-layout',
        null,
        formEl,
        h('section.card.stack.preview.quiz', { 'aria-labelledby': 'preview-heading' }, h('h2#preview-heading', null, t('author.preview')), h('p.small.muted', null, t('author.previewHint')), previewBox, h('div.row.wrap', null, check), previewStatus),
      ),
    )
    void preview()
  }

  void load().catch((error: unknown) => {
    body.setAttribute('aria-busy', 'false')
    fill(body, h('p.error', { role: 'alert' }, readable(error)))
  })
  return {
    title: t('author.editQuestion'),
    destroy: () => clearTimeout(previewTimer),
    el: h('div', null, topbar(user, navigate), h('main#main.page.stack.authoring', null, h('p', null, h('a', { href: back, 'data-link': '' }, t('author.backToBank'))), heading, body)),
  }
}
