// The type-specific part of the question editor: one form per question type, built from a
// definition (or the type's defaults) and read back into the definition's JSON. Field keys
// follow the definition's paths, so the server's errors land beside their inputs.

import { h } from '../dom'
import { t } from '../i18n'
import { type FormErrors, checkbox, uid, field, group, lines, numberInput, numberOf, select, textArea, textInput } from './formkit'

export type Definition = Record<string, unknown>

export interface TypeForm {
  el: HTMLElement
  read: () => Definition
}

export const QUESTION_TYPES = ['single_choice', 'multiple_choice', 'true_false', 'numeric', 'short_answer', 'fill_blanks', 'matching', 'ordering', 'math', 'essay', 'file_upload', 'python_code'] as const

interface Choice {
  id: string
  text: string
}

/** A fresh id not in ``taken``: ``prefix`` + a number. */
function freshId(prefix: string, taken: Set<string>): string {
  let n = 1
  while (taken.has(`${prefix}${n}`)) n += 1
  taken.add(`${prefix}${n}`)
  return `${prefix}${n}`
}

/** Rows of ``{id, text}`` with a per-row extra control (correct?), add and remove buttons. */
function choiceList(
  legend: string,
  key: string,
  errors: FormErrors,
  initial: Choice[],
  extra: ((id: string) => HTMLInputElement) | null,
  onChange: () => void,
): { el: HTMLElement; read: () => Choice[]; marked: () => string[] } {
  const taken = new Set(initial.map((c) => c.id))
  const rows: { id: string; text: HTMLInputElement; mark: HTMLInputElement | null; el: HTMLElement }[] = []
  const list = h('ol.stack.tight.choice-editor')
  const add = (choice: Choice): void => {
    const index = rows.length
    const text = textInput(choice.text, { 'aria-label': t('author.choiceText', { number: index + 1 }), oninput: onChange })
    const mark = extra ? extra(choice.id) : null
    if (mark) {
      mark.setAttribute('aria-label', t('author.choiceCorrect', { number: index + 1 }))
      mark.addEventListener('change', onChange)
    }
    const row = { id: choice.id, text, mark, el: h('li.stack.tight') }
    const remove = h('button', { type: 'button', 'aria-label': t('author.removeChoice', { number: index + 1 }), onclick: () => drop(row) }, '×')
    const error = h('p.field-error', { id: uid('e'), hidden: true })
    text.setAttribute('aria-describedby', error.id)
    row.el.append(h('div.row', null, text, ...(mark ? [h('label.small.nowrap', null, mark, ' ', t('author.correct'))] : []), remove), error)
    errors.attach(`${key}.${index}`, text, error)
    rows.push(row)
    list.append(row.el)
  }
  const drop = (row: (typeof rows)[number]): void => {
    const index = rows.indexOf(row)
    rows.splice(index, 1)
    row.el.remove()
    onChange()
  }
  for (const choice of initial) add(choice)
  const adder = h('button', { type: 'button', onclick: () => { add({ id: freshId('c', taken), text: '' }); rows[rows.length - 1].text.focus(); onChange() } }, t('author.addChoice'))
  const el = group(legend, [list, adder], { key, errors })
  return {
    el,
    read: () => rows.map((r) => ({ id: r.id, text: r.text.value })),
    marked: () => rows.filter((r) => r.mark?.checked).map((r) => r.id),
  }
}

function defaultChoices(): Choice[] {
  return [
    { id: 'c1', text: '' },
    { id: 'c2', text: '' },
  ]
}

function choices(d: Definition, multiple: boolean, errors: FormErrors, onChange: () => void): TypeForm {
  const initial = (d.choices as Choice[] | undefined) ?? defaultChoices()
  const correct = new Set(multiple ? ((d.answers as string[] | undefined) ?? []) : d.answer ? [String(d.answer)] : [])
  const name = `correct-${Math.random().toString(36).slice(2)}`
  const list = choiceList(t('author.choices'), 'choices', errors, initial, (id) => h('input', { type: multiple ? 'checkbox' : 'radio', name, value: id, checked: correct.has(id) }), onChange)
  const shuffle = checkbox(d.shuffle !== false, { onchange: onChange })
  const scoring = select(
    [
      ['right_minus_wrong', t('author.scoring.right_minus_wrong')],
      ['all_or_nothing', t('author.scoring.all_or_nothing')],
      ['per_choice', t('author.scoring.per_choice')],
    ],
    String(d.scoring ?? 'right_minus_wrong'),
    { onchange: onChange },
  )
  const pins = new Map(initial.map((c) => [c.id, Boolean((c as { pin?: boolean }).pin)]))
  const feedback = new Map(initial.map((c) => [c.id, (c as { feedback?: string }).feedback]))
  return {
    el: h('div.stack', null, list.el, multiple ? field(t('author.scoring'), scoring, { key: 'scoring', errors }) : null, field(t('author.shuffleChoices'), shuffle, { inline: true, key: 'shuffle', errors })),
    read: () => {
      const items = list.read().map((c) => ({ ...c, ...(pins.get(c.id) ? { pin: true } : {}), ...(feedback.get(c.id) ? { feedback: feedback.get(c.id) } : {}) }))
      const marked = list.marked()
      return multiple
        ? { choices: items, answers: marked, scoring: scoring.value, shuffle: shuffle.checked }
        : { choices: items, answer: marked[0] ?? '', shuffle: shuffle.checked }
    },
  }
}

function trueFalse(d: Definition, errors: FormErrors, onChange: () => void): TypeForm {
  const answer = select(
    [
      ['true', t('quiz.true')],
      ['false', t('quiz.false')],
    ],
    d.answer === false ? 'false' : 'true',
    { onchange: onChange },
  )
  return { el: field(t('author.statementIs'), answer, { key: 'answer', errors }), read: () => ({ answer: answer.value === 'true' }) }
}

/** Value, tolerance and unit fields of a numeric rule (a numeric question, a numeric blank). */
function numericRule(d: Definition, errors: FormErrors, prefix: string, onChange: () => void): TypeForm {
  const value = numberInput(d.value as string | undefined, { oninput: onChange })
  const tolerance = numberInput((d.tolerance as string | undefined) ?? '', { oninput: onChange })
  const mode = select(
    [
      ['absolute', t('author.tolerance.absolute')],
      ['relative', t('author.tolerance.relative')],
    ],
    String(d.tolerance_mode ?? 'absolute'),
    { onchange: onChange },
  )
  const unit = textInput(String(d.unit ?? ''), { oninput: onChange, maxlength: 32 })
  const required = checkbox(d.unit_mode === 'required', { onchange: onChange })
  const show = checkbox(Boolean(d.show_unit), { onchange: onChange })
  const k = (name: string): string => (prefix ? `${prefix}.${name}` : name)
  return {
    el: h(
      'div.grid-2',
      null,
      field(t('author.value'), value, { key: k('value'), errors }),
      field(t('author.tolerance'), tolerance, { key: k('tolerance'), errors, hint: t('author.toleranceHint') }),
      field(t('author.toleranceMode'), mode, { key: k('tolerance_mode'), errors }),
      field(t('author.unit'), unit, { key: k('unit'), errors, hint: t('author.unitHint') }),
      field(t('author.unitRequired'), required, { inline: true, key: k('unit_mode'), errors }),
      field(t('author.showUnit'), show, { inline: true, key: k('show_unit'), errors }),
    ),
    read: () => {
      const out: Definition = { value: value.value.trim().replace(',', '.'), tolerance_mode: mode.value, unit_mode: required.checked ? 'required' : 'optional', show_unit: show.checked }
      if (tolerance.value.trim()) out.tolerance = tolerance.value.trim().replace(',', '.')
      if (unit.value.trim()) out.unit = unit.value.trim()
      return out
    },
  }
}

/** Accepted answers and patterns of a text rule (a short answer, a text blank). */
function textRule(d: Definition, errors: FormErrors, prefix: string, onChange: () => void): TypeForm {
  const accepted = textArea(((d.accepted as { text: string }[] | undefined) ?? []).map((a) => a.text).join('\n'), 3, { oninput: onChange })
  const patterns = textArea(((d.patterns as { pattern: string }[] | undefined) ?? []).map((p) => p.pattern).join('\n'), 2, { oninput: onChange, class: 'code' })
  const cased = checkbox(Boolean(d.case_sensitive), { onchange: onChange })
  const punctuation = checkbox(Boolean(d.ignore_punctuation), { onchange: onChange })
  const k = (name: string): string => (prefix ? `${prefix}.${name}` : name)
  return {
    el: h(
      'div.stack',
      null,
      field(t('author.accepted'), accepted, { key: k('accepted'), errors, hint: t('author.onePerLine') }),
      field(t('author.patterns'), patterns, { key: k('patterns'), errors, hint: t('author.patternsHint') }),
      field(t('author.caseSensitive'), cased, { inline: true, key: k('case_sensitive'), errors }),
      field(t('author.ignorePunctuation'), punctuation, { inline: true, key: k('ignore_punctuation'), errors }),
    ),
    read: () => ({
      accepted: lines(accepted).map((text) => ({ text })),
      patterns: lines(patterns).map((pattern) => ({ pattern })),
      case_sensitive: cased.checked,
      ignore_punctuation: punctuation.checked,
    }),
  }
}

const BLANK = /\[\[([A-Za-z0-9_-]{1,64})\]\]/g

function blanks(d: Definition, errors: FormErrors, onChange: () => void): TypeForm {
  const known = new Map(((d.blanks as { id: string; rule: Definition }[] | undefined) ?? []).map((b) => [b.id, b]))
  const template = textArea(String(d.template ?? ''), 3, { oninput: () => { draw(); onChange() } })
  const list = h('div.stack')
  const forms = new Map<string, { kind: HTMLSelectElement; form: TypeForm; options?: HTMLTextAreaElement; answer?: HTMLSelectElement }>()
  const draw = (): void => {
    const ids = [...template.value.matchAll(BLANK)].map((m) => m[1])
    for (const id of [...forms.keys()]) if (!ids.includes(id)) forms.delete(id)
    errors.forget('blanks')
    list.replaceChildren(
      ...ids.map((id, index) => {
        const previous = forms.get(id)
        const rule = known.get(id)?.rule ?? {}
        const kind = previous?.kind ?? select(
          [
            ['text', t('author.blank.text')],
            ['numeric', t('author.blank.numeric')],
            ['dropdown', t('author.blank.dropdown')],
          ],
          String(rule.kind ?? 'text'),
          { onchange: () => { forms.delete(id); known.set(id, { id, rule: { kind: kind.value } }); draw(); onChange() } },
        )
        const prefix = `blanks.${index}.rule`
        let entry = previous
        if (!entry) {
          if (kind.value === 'dropdown') {
            const options = (rule.options as Choice[] | undefined) ?? []
            const area = textArea(options.map((o) => o.text).join('\n'), 3, { oninput: () => { fillAnswer(); onChange() } })
            const answer = select([], '', { onchange: onChange })
            const fillAnswer = (): void => {
              const chosen = answer.value || String(options.findIndex((o) => o.id === rule.answer) + 1)
              answer.replaceChildren(...lines(area).map((text, n) => h('option', { value: String(n + 1), selected: String(n + 1) === chosen }, text)))
            }
            fillAnswer()
            const form: TypeForm = {
              el: h('div.grid-2', null, field(t('author.options'), area, { key: `${prefix}.options`, errors, hint: t('author.onePerLine') }), field(t('author.correctOption'), answer, { key: `${prefix}.answer`, errors })),
              read: () => ({ options: lines(area).map((text, n) => ({ id: `o${n + 1}`, text })), answer: answer.value ? `o${answer.value}` : '' }),
            }
            entry = { kind, form }
          } else if (kind.value === 'numeric') {
            entry = { kind, form: numericRule(rule, errors, prefix, onChange) }
          } else {
            entry = { kind, form: textRule(rule, errors, prefix, onChange) }
          }
          forms.set(id, entry)
        }
        return group(t('author.blankNumber', { number: index + 1, id }), [field(t('author.blankKind'), kind), entry.form.el], { key: `blanks.${index}`, errors })
      }),
    )
  }
  draw()
  const scoring = select(
    [
      ['per_blank', t('author.scoring.per_blank')],
      ['all_or_nothing', t('author.scoring.all_or_nothing')],
    ],
    String(d.scoring ?? 'per_blank'),
    { onchange: onChange },
  )
  return {
    el: h('div.stack', null, field(t('author.template'), template, { key: 'template', errors, hint: t('author.templateHint') }), list, field(t('author.scoring'), scoring, { key: 'scoring', errors })),
    read: () => ({
      template: template.value,
      scoring: scoring.value,
      blanks: [...template.value.matchAll(BLANK)].map((m) => {
        const entry = forms.get(m[1])
        return { id: m[1], rule: { kind: entry?.kind.value ?? 'text', ...(entry?.form.read() ?? {}) } }
      }),
    }),
  }
}

function matching(d: Definition, errors: FormErrors, onChange: () => void): TypeForm {
  const options = (d.options as Choice[] | undefined) ?? []
  const textOf = new Map(options.map((o) => [o.id, o.text]))
  const pairs = ((d.pairs as { prompt: string; answer: string }[] | undefined) ?? [{ prompt: '', answer: '' }]).map((p) => ({ prompt: p.prompt, answer: textOf.get(p.answer) ?? '' }))
  const used = new Set(pairs.map((p) => p.answer))
  const rows = h('ol.stack.tight')
  const inputs: { prompt: HTMLInputElement; answer: HTMLInputElement; el: HTMLElement }[] = []
  const add = (prompt: string, answer: string): void => {
    const n = inputs.length + 1
    const p = textInput(prompt, { oninput: onChange })
    const a = textInput(answer, { oninput: onChange })
    const el = h('li.grid-2', null, field(t('author.pairPrompt', { number: n }), p, { key: `pairs.${n - 1}.prompt`, errors }), field(t('author.pairAnswer', { number: n }), a, { key: `pairs.${n - 1}.answer`, errors }))
    inputs.push({ prompt: p, answer: a, el })
    rows.append(el)
  }
  for (const pair of pairs) add(pair.prompt, pair.answer)
  const extra = textArea(options.filter((o) => !used.has(o.text)).map((o) => o.text).join('\n'), 2, { oninput: onChange })
  const adder = h('button', { type: 'button', onclick: () => { add('', ''); inputs[inputs.length - 1].prompt.focus(); onChange() } }, t('author.addPair'))
  const shuffle = checkbox(Boolean(d.shuffle_prompts), { onchange: onChange })
  return {
    el: h('div.stack', null, group(t('author.pairs'), [rows, adder], { key: 'pairs', errors }), field(t('author.distractors'), extra, { key: 'options', errors, hint: t('author.onePerLine') }), field(t('author.shufflePrompts'), shuffle, { inline: true })),
    read: () => {
      const texts: string[] = []
      for (const text of [...inputs.map((i) => i.answer.value.trim()), ...lines(extra)]) if (text && !texts.includes(text)) texts.push(text)
      return {
        options: texts.map((text, n) => ({ id: `o${n + 1}`, text })),
        pairs: inputs.filter((i) => i.prompt.value.trim() || i.answer.value.trim()).map((i, n) => ({ id: `p${n + 1}`, prompt: i.prompt.value, answer: `o${texts.indexOf(i.answer.value.trim()) + 1}` })),
        shuffle_prompts: shuffle.checked,
      }
    },
  }
}

function ordering(d: Definition, errors: FormErrors, onChange: () => void): TypeForm {
  const items = textArea(((d.items as Choice[] | undefined) ?? []).map((i) => i.text).join('\n'), 4, { oninput: onChange })
  const scoring = select(
    [
      ['longest_subsequence', t('author.scoring.longest_subsequence')],
      ['pairwise', t('author.scoring.pairwise')],
      ['all_or_nothing', t('author.scoring.all_or_nothing')],
    ],
    String(d.scoring ?? 'longest_subsequence'),
    { onchange: onChange },
  )
  return {
    el: h('div.stack', null, field(t('author.orderItems'), items, { key: 'items', errors, hint: t('author.orderHint') }), field(t('author.scoring'), scoring, { key: 'scoring', errors })),
    read: () => ({ items: lines(items).map((text, n) => ({ id: `i${n + 1}`, text })), scoring: scoring.value }),
  }
}

function math(d: Definition, errors: FormErrors, onChange: () => void): TypeForm {
  const answer = textInput(String(d.answer ?? ''), { oninput: onChange, class: 'code' })
  const variables = textInput(((d.variables as string[] | undefined) ?? ['x']).join(', '), { oninput: onChange })
  return {
    el: h('div.grid-2', null, field(t('author.mathAnswer'), answer, { key: 'answer', errors, hint: t('author.mathHint') }), field(t('author.variables'), variables, { key: 'variables', errors, hint: t('author.commaSeparated') })),
    read: () => ({ answer: answer.value, variables: variables.value.split(',').map((v) => v.trim()).filter(Boolean) }),
  }
}

function essay(d: Definition, errors: FormErrors, onChange: () => void): TypeForm {
  const min = numberInput((d.min_words as number | undefined) ?? '', { oninput: onChange })
  const max = numberInput((d.max_words as number | undefined) ?? '', { oninput: onChange })
  const notes = textArea(String(d.grading_notes ?? ''), 2, { oninput: onChange })
  return {
    el: h('div.stack', null, h('div.grid-2', null, field(t('author.minWords'), min, { key: 'min_words', errors }), field(t('author.maxWords'), max, { key: 'max_words', errors })), field(t('author.gradingNotes'), notes, { key: 'grading_notes', errors })),
    read: () => ({ ...(numberOf(min) !== null ? { min_words: numberOf(min) } : {}), ...(numberOf(max) !== null ? { max_words: numberOf(max) } : {}), ...(notes.value.trim() ? { grading_notes: notes.value } : {}) }),
  }
}

function fileUpload(d: Definition, errors: FormErrors, onChange: () => void): TypeForm {
  const types = textInput(((d.allowed_types as string[] | undefined) ?? ['application/pdf']).join(', '), { oninput: onChange })
  const files = numberInput((d.max_files as number | undefined) ?? 1, { oninput: onChange })
  const size = numberInput(Math.round(((d.max_bytes as number | undefined) ?? 50 << 20) / (1 << 20)), { oninput: onChange })
  const notes = textArea(String(d.grading_notes ?? ''), 2, { oninput: onChange })
  return {
    el: h('div.stack', null, field(t('author.allowedTypes'), types, { key: 'allowed_types', errors, hint: t('author.typesHint') }), h('div.grid-2', null, field(t('author.maxFiles'), files, { key: 'max_files', errors }), field(t('author.maxMegabytes'), size, { key: 'max_bytes', errors })), field(t('author.gradingNotes'), notes, { key: 'grading_notes', errors })),
    read: () => {
      const mb = numberOf(size)
      return { allowed_types: types.value.split(',').map((v) => v.trim()).filter(Boolean), max_files: numberOf(files), max_bytes: typeof mb === 'number' ? Math.round(mb * (1 << 20)) : mb, ...(notes.value.trim() ? { grading_notes: notes.value } : {}) }
    },
  }
}

function pythonCode(d: Definition, errors: FormErrors, onChange: () => void): TypeForm {
  const starter = textArea(String(d.starter_code ?? ''), 5, { oninput: onChange, class: 'code', spellcheck: false })
  const tests = ((d.tests as { id: string; name: string; source: string; hidden?: boolean }[] | undefined) ?? [{ id: 't1', name: '', source: '', hidden: true }])
  const taken = new Set(tests.map((x) => x.id))
  const list = h('ol.stack')
  const rows: { id: string; name: HTMLInputElement; source: HTMLTextAreaElement; hidden: HTMLInputElement }[] = []
  const add = (test: { id: string; name: string; source: string; hidden?: boolean }): void => {
    const n = rows.length
    const row = { id: test.id, name: textInput(test.name, { oninput: onChange }), source: textArea(test.source, 3, { oninput: onChange, class: 'code', spellcheck: false }), hidden: checkbox(test.hidden !== false, { onchange: onChange }) }
    rows.push(row)
    list.append(h('li.stack.tight', null, field(t('author.testName', { number: n + 1 }), row.name, { key: `tests.${n}.name`, errors }), field(t('author.testSource', { number: n + 1 }), row.source, { key: `tests.${n}.source`, errors }), field(t('author.testHidden'), row.hidden, { inline: true })))
  }
  for (const test of tests) add(test)
  const adder = h('button', { type: 'button', onclick: () => { add({ id: freshId('t', taken), name: '', source: '' }); rows[rows.length - 1].name.focus(); onChange() } }, t('author.addTest'))
  return {
    el: h('div.stack', null, field(t('author.starterCode'), starter, { key: 'starter_code', errors }), group(t('author.tests'), [list, adder], { key: 'tests', errors })),
    read: () => ({ starter_code: starter.value, tests: rows.map((r) => ({ id: r.id, name: r.name.value, source: r.source.value, hidden: r.hidden.checked })), ...(d.limits ? { limits: d.limits } : {}), ...(d.forbidden_modules ? { forbidden_modules: d.forbidden_modules } : {}) }),
  }
}

/** The form of ``type`` for ``definition`` (the type's own fields only). */
export function typeForm(type: string, definition: Definition, errors: FormErrors, onChange: () => void): TypeForm {
  switch (type) {
    case 'single_choice':
      return choices(definition, false, errors, onChange)
    case 'multiple_choice':
      return choices(definition, true, errors, onChange)
    case 'true_false':
      return trueFalse(definition, errors, onChange)
    case 'numeric':
      return numericRule(definition, errors, '', onChange)
    case 'short_answer':
      return textRule(definition, errors, '', onChange)
    case 'fill_blanks':
      return blanks(definition, errors, onChange)
    case 'matching':
      return matching(definition, errors, onChange)
    case 'ordering':
      return ordering(definition, errors, onChange)
    case 'math':
      return math(definition, errors, onChange)
    case 'essay':
      return essay(definition, errors, onChange)
    case 'file_upload':
      return fileUpload(definition, errors, onChange)
    default:
      return pythonCode(definition, errors, onChange)
  }
}
