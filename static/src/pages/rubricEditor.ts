// The rubric editor (Canvas's rubric editor, without a mini-language): pick one of the
// course's rubrics or start a new one; each criterion has a name, a description and its
// levels (name, points, what earns it) in order. Criteria and levels move up and down with
// buttons (keyboard first; focus stays on the moved item), a removal can be undone, the
// total (each criterion's best level, summed) updates as points are typed. Errors, the
// browser's own checks and the server's problem documents alike, are shown under the field
// they concern (aria-describedby) and summed up in an alert; saves are announced in a status
// line. A rubric already used for grades may be changed: the page says so, and those grades
// keep their points until a grader grades again (see lms/assignments/rubric_routes.py).

import * as api from '../api'
import { announce, confirmDialog, fill, h } from '../dom'
import { t } from '../i18n'
import { type Rubric, type RubricCriterion, assignments } from './assignmentApi'
import { FormErrors, field, numberInput, textArea, textInput } from './formkit'

const MAX_CRITERIA = 50
const MAX_LEVELS = 10
const POINTS = /^\d{1,6}(\.\d{1,2})?$/

interface Options {
  courseId: string
  assignmentId: string
  rubrics: Rubric[]
  selected: string | null
  /** After a save: the rubric, and whether it was attached to the assignment now. */
  onSaved: (rubric: Rubric, attached: boolean) => void
}

type Removed = { criterion: RubricCriterion; at: number } | { level: RubricCriterion['levels'][number]; criterionId: string; at: number }

let serial = 0
function freshId(prefix: string): string {
  serial += 1
  return `${prefix}${Date.now().toString(36)}${serial}`
}

function cents(points: string): number {
  return POINTS.test(points.trim()) ? Math.round(Number(points.trim()) * 100) : 0
}

function shown(total: number): string {
  return (total / 100).toFixed(2)
}

function best(c: RubricCriterion): number {
  return Math.max(0, ...c.levels.map((l) => cents(l.points)))
}

function blankCriterion(): RubricCriterion {
  return { id: freshId('c'), description: '', long_description: '', levels: [blankLevel()] }
}

function blankLevel(): RubricCriterion['levels'][number] {
  return { id: freshId('l'), title: '', points: '0', description: '' }
}

function copy(rubric: Rubric | null): RubricCriterion[] {
  if (!rubric) return [blankCriterion()]
  return rubric.criteria.map((c) => ({ ...c, long_description: c.long_description ?? '', levels: c.levels.map((l) => ({ ...l, description: l.description ?? '' })) }))
}

function move<T>(items: T[], from: number, to: number): void {
  const [item] = items.splice(from, 1)
  items.splice(to, 0, item)
}

/** Problems the server would refuse, found before sending, as a problem document's fields. */
export function check(title: string, criteria: RubricCriterion[]): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = []
  const text = (path: string, value: string, max: number, required: boolean) => {
    if (required && !value.trim()) out.push({ field: path, message: t('rubric.required') })
    else if (value.length > max) out.push({ field: path, message: t('rubric.tooLong', { max: String(max) }) })
  }
  text('title', title, 200, true)
  if (criteria.length > MAX_CRITERIA) out.push({ field: 'criteria', message: t('rubric.maxCriteria', { max: String(MAX_CRITERIA) }) })
  criteria.forEach((c, i) => {
    text(`criteria.${i}.description`, c.description, 1000, true)
    text(`criteria.${i}.long_description`, c.long_description ?? '', 2000, false)
    if (c.levels.length > MAX_LEVELS) out.push({ field: `criteria.${i}.levels`, message: t('rubric.maxLevels', { max: String(MAX_LEVELS) }) })
    c.levels.forEach((l, j) => {
      text(`criteria.${i}.levels.${j}.title`, l.title, 200, true)
      const p = l.points.trim()
      if (!POINTS.test(p) || Number(p) > 100_000) out.push({ field: `criteria.${i}.levels.${j}.points`, message: t('rubric.badPoints') })
      text(`criteria.${i}.levels.${j}.description`, l.description ?? '', 1000, false)
    })
  })
  return out
}

export function rubricEditor(options: Options): HTMLElement {
  const list = options.rubrics.slice()
  let current: Rubric | null = list.find((r) => r.id === options.selected) ?? null
  let criteria = copy(current)
  let removed: Removed | null = null
  // Unsaved changes: picking another rubric asks before dropping them.
  let dirty = false
  const errors = new FormErrors()
  const status = h('p', { role: 'status', 'data-testid': 'rubric-status' })
  const total = h('p', { 'data-testid': 'rubric-total' })
  const inUse = h('p.notice.warn', { id: 'rubric-in-use', 'data-testid': 'rubric-in-use', hidden: true })
  const undoBar = h('div.row.wrap')
  const items = h('ol.stack.rubric-list', { 'aria-label': t('rubric.criteria') })
  const title = textInput('', { maxlength: 200, 'data-focus-key': 'rubric-title' })
  const picker = h('select', { 'data-focus-key': 'rubric-pick' }) as HTMLSelectElement
  const addCriterion = h('button', { type: 'button', onclick: () => add() }, t('rubric.addCriterion'))
  const save = h('button.primary', { type: 'submit', 'aria-describedby': 'rubric-in-use' })

  function drawPicker(): void {
    fill(picker, h('option', { value: '' }, t('rubric.new')), list.map((r) => h('option', { value: r.id, selected: r.id === current?.id }, `${r.title} (${r.points})`)))
    picker.value = current?.id ?? ''
  }

  function load(rubric: Rubric | null): void {
    current = rubric
    criteria = copy(rubric)
    removed = null
    title.value = rubric?.title ?? ''
    const graded = rubric?.graded ?? 0
    inUse.hidden = graded === 0
    inUse.textContent = graded ? t('rubric.inUse', { count: graded }) : ''
    save.textContent = rubric ? t('rubric.save') : t('rubric.saveNew')
    errors.clear()
    draw()
    dirty = false
  }

  function updateTotal(): void {
    total.textContent = t('rubric.total', { points: shown(criteria.reduce((sum, c) => sum + best(c), 0)) })
    criteria.forEach((c, i) => {
      const heading = items.querySelector(`[data-heading="${c.id}"]`)
      if (heading) heading.textContent = t('rubric.criterionHeading', { n: String(i + 1), points: shown(best(c)) })
    })
  }

  function control(label: string, where: string, input: HTMLInputElement | HTMLTextAreaElement, key: string, hint?: string): HTMLElement {
    const wrap = field(label, input, { key, errors, hint })
    wrap.querySelector('label')?.prepend(h('span.sr-only', null, where))
    return wrap
  }

  /** Move up, move down and remove buttons; a level's are named with their criterion too
   * (the visible text is part of the name, for speech input). */
  function tools(what: 'criterion' | 'level', focusBase: string, n: number, m: number, count: number, index: number, onMove: (to: number) => void, onRemove: () => void): HTMLElement {
    const params = { n: String(n), m: String(m) }
    const context = what === 'level' ? h('span.sr-only', null, t('rubric.where', params)) : null
    const button = (key: 'up' | 'down' | 'remove', disabled: boolean, onclick: () => void) =>
      h('button', { type: 'button', class: key === 'remove' ? 'danger' : undefined, disabled, 'data-focus-key': `${focusBase}-${key}`, onclick }, context?.cloneNode(true), t(`rubric.${what}.${key}`, params))
    return h(
      'div.row.wrap.tight',
      null,
      button('up', index === 0, () => onMove(index - 1)),
      button('down', index === count - 1, () => onMove(index + 1)),
      button('remove', count === 1, onRemove),
    )
  }

  /** After a move, keep focus on the moved item's button, or its other one at an end. */
  function refocus(base: string, to: number): void {
    draw()
    const wanted = items.querySelector<HTMLButtonElement>(`[data-focus-key="${base}"]`)
    const other = base.endsWith('-up') ? base.replace(/-up$/, '-down') : base.replace(/-down$/, '-up')
    ;(wanted && !wanted.disabled ? wanted : items.querySelector<HTMLButtonElement>(`[data-focus-key="${other}"]`))?.focus()
    announce(t('rubric.moved', { n: String(to + 1) }))
  }

  function dropped(what: Removed, text: string): void {
    removed = what
    draw()
    const undo = h('button', { type: 'button', 'data-testid': 'rubric-undo', onclick: restore }, t('rubric.undo'))
    fill(undoBar, h('span', null, text), undo)
    undo.focus()
    announce(text)
  }

  function restore(): void {
    const what = removed
    if (!what) return
    removed = null
    if ('criterion' in what) criteria.splice(what.at, 0, what.criterion)
    else criteria.find((c) => c.id === what.criterionId)?.levels.splice(what.at, 0, what.level)
    draw()
    const id = 'criterion' in what ? what.criterion.id : what.level.id
    items.querySelector<HTMLElement>(`[data-focus-key="${id}-name"]`)?.focus()
    announce(t('rubric.restored'))
  }

  function levelRow(c: RubricCriterion, i: number, level: RubricCriterion['levels'][number], j: number): HTMLElement {
    const where = t('rubric.levelWhere', { n: String(i + 1), m: String(j + 1) })
    const key = `criteria.${i}.levels.${j}`
    const name = textInput(level.title, { maxlength: 200, 'data-focus-key': `${level.id}-name`, oninput: () => { level.title = name.value } })
    const points = numberInput(level.points, { 'data-focus-key': `${level.id}-points`, oninput: () => { level.points = points.value; updateTotal() } })
    const about = textInput(level.description ?? '', { maxlength: 1000, 'data-focus-key': `${level.id}-about`, oninput: () => { level.description = about.value } })
    return h(
      'li.rubric-level',
      null,
      control(t('rubric.levelName'), where, name, `${key}.title`),
      control(t('rubric.points'), where, points, `${key}.points`),
      control(t('rubric.levelDescription'), where, about, `${key}.description`),
      tools('level', level.id, i + 1, j + 1, c.levels.length, j, (to) => { move(c.levels, j, to); refocus(`${level.id}-${to < j ? 'up' : 'down'}`, to) }, () => {
        c.levels.splice(j, 1)
        dropped({ level, criterionId: c.id, at: j }, t('rubric.removedLevel', { name: level.title || t('rubric.untitled') }))
      }),
    )
  }

  function criterionItem(c: RubricCriterion, i: number): HTMLElement {
    const where = t('rubric.where', { n: String(i + 1) })
    const name = textInput(c.description, { maxlength: 1000, 'data-focus-key': `${c.id}-name`, oninput: () => { c.description = name.value } })
    const about = textArea(c.long_description ?? '', 2, { maxlength: 2000, 'data-focus-key': `${c.id}-about`, oninput: () => { c.long_description = about.value } })
    const levels = h('ol.stack.tight.rubric-list', { 'aria-label': t('rubric.levelsOf', { n: String(i + 1) }), id: `rubric-levels-${i}`, tabIndex: -1 }, c.levels.map((level, j) => levelRow(c, i, level, j)))
    const levelsError = h('p.field-error', { id: `rubric-levels-${i}-error`, hidden: true })
    levels.setAttribute('aria-describedby', levelsError.id)
    errors.attach(`criteria.${i}.levels`, levels, levelsError)
    const addLevel = h('button', {
      type: 'button',
      disabled: c.levels.length >= MAX_LEVELS,
      'data-focus-key': `${c.id}-add-level`,
      onclick: () => {
        const level = blankLevel()
        c.levels.push(level)
        draw()
        items.querySelector<HTMLElement>(`[data-focus-key="${level.id}-name"]`)?.focus()
      },
    }, t('rubric.addLevel', { n: String(i + 1) }))
    return h(
      'li.card.tight.stack.rubric-criterion',
      { 'data-criterion': c.id },
      h('h3', { 'data-heading': c.id }, t('rubric.criterionHeading', { n: String(i + 1), points: shown(best(c)) })),
      tools('criterion', c.id, i + 1, 0, criteria.length, i, (to) => { move(criteria, i, to); refocus(`${c.id}-${to < i ? 'up' : 'down'}`, to) }, () => {
        criteria.splice(i, 1)
        dropped({ criterion: c, at: i }, t('rubric.removedCriterion', { name: c.description || t('rubric.untitled') }))
      }),
      control(t('rubric.name'), where, name, `criteria.${i}.description`),
      control(t('rubric.description'), where, about, `criteria.${i}.long_description`),
      h('h4', null, t('rubric.levelsOf', { n: String(i + 1) })),
      levels,
      levelsError,
      addLevel,
    )
  }

  function draw(): void {
    dirty = true
    errors.forget('criteria')
    fill(items, criteria.map((c, i) => criterionItem(c, i)))
    if (!removed) undoBar.replaceChildren()
    addCriterion.disabled = criteria.length >= MAX_CRITERIA
    updateTotal()
  }

  function add(): void {
    const c = blankCriterion()
    criteria.push(c)
    draw()
    items.querySelector<HTMLElement>(`[data-focus-key="${c.id}-name"]`)?.focus()
  }

  async function submit(event: Event): Promise<void> {
    event.preventDefault()
    status.textContent = ''
    const body = {
      title: title.value.trim(),
      criteria: criteria.map((c) => ({ ...c, description: c.description.trim(), levels: c.levels.map((l) => ({ ...l, title: l.title.trim(), points: l.points.trim() })) })),
    }
    const problems = check(body.title, body.criteria)
    try {
      if (problems.length) throw new api.ApiError(422, t('rubric.notSaved'), '', problems)
      const saved = current ? await assignments.updateRubric(current.id, body) : await assignments.addRubric(options.courseId, body)
      const attached = current === null
      if (attached) await assignments.update(options.assignmentId, { rubric_id: saved.id })
      const at = list.findIndex((r) => r.id === saved.id)
      if (at >= 0) list[at] = saved
      else list.push(saved)
      errors.clear()
      load(saved)
      drawPicker()
      const done = t(attached ? 'rubric.savedAttached' : 'rubric.saved', { title: saved.title, points: saved.points })
      status.textContent = done
      options.onSaved(saved, attached)
    } catch (error) {
      errors.show(error)
      status.textContent = t('rubric.notSaved')
    }
  }

  picker.addEventListener('change', async () => {
    const wanted = list.find((r) => r.id === picker.value) ?? null
    if (dirty && !(await confirmDialog(t('rubric.discardTitle'), t('rubric.discard'), t('rubric.discardOk'), true))) {
      picker.value = current?.id ?? ''
      return
    }
    load(wanted)
  })
  drawPicker()
  load(current)
  return h(
    'form.card.stack',
    {
      'aria-labelledby': 'rubric-heading',
      novalidate: true,
      onsubmit: (event: Event) => void submit(event),
      oninput: (event: Event) => {
        if (event.target !== picker) dirty = true
      },
    },
    h('h2#rubric-heading', null, t('rubric.heading')),
    field(t('rubric.pick'), picker),
    field(t('rubric.title'), title, { key: 'title', errors }),
    inUse,
    items,
    undoBar,
    addCriterion,
    total,
    errors.summary,
    save,
    status,
  )
}
