// Authoring a lab (course instructors): title, instructions, template files and steps,
// each step with the file it checks, its points and its hidden tests (Python assertions).

import * as api from '../api'
import { announce, confirmDialog, fill, h, toast } from '../dom'
import { t } from '../i18n'
import { type Lab, type LabFile, type LabIn, type LabTest, labs, type StepIn } from '../labs/api'
import type { Navigate, Page } from '../main'
import { readable } from './gradebookApi'
import { topbar } from './shell'

const MAX_TESTS = 20

function newStep(n: number): StepIn {
  return { id: `step-${n}-${Math.random().toString(36).slice(2, 7)}`, title: '', body: '', file: null, points: 1, tests: [{ id: 't1', name: 'test 1', source: '' }] }
}

/** A new test with an id no other test of the step has. */
function newTest(step: StepIn): LabTest {
  const taken = new Set(step.tests.map((test) => test.id))
  let k = step.tests.length + 1
  while (taken.has(`t${k}`)) k++
  return { id: `t${k}`, name: `test ${k}`, source: '' }
}

export function labEditorPage(courseId: string, labId: string | null, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', null, labId ? t('labEditor.title') : t('labEditor.new'))
  const problem = h('p.error', { role: 'alert', hidden: true })
  const title = h('input#lab-title', { maxlength: 200, required: true, autocomplete: 'off' }) as HTMLInputElement
  const instructions = h('textarea#lab-instructions', { rows: 6, maxlength: 100000 }) as HTMLTextAreaElement
  const filesBox = h('div.stack')
  const stepsBox = h('div.stack')
  const live = h('a.button', { hidden: true, 'data-link': '' }, t('labEditor.live'))
  const deleteButton = h('button.danger', { type: 'button', hidden: true, onclick: () => void remove() }, t('labEditor.delete'))
  let loaded: Lab | null = null
  let files: LabFile[] = [{ name: 'main.py', text: '' }]
  let steps: StepIn[] = []

  function renderFiles(): void {
    fill(
      filesBox,
      files.map((file, i) =>
        h(
          'fieldset.card.stack',
          null,
          h('legend', null, file.name || t('labEditor.fileName')),
          h('div.field', null, h('label', { for: `file-name-${i}` }, t('labEditor.fileName')), h('input', { id: `file-name-${i}`, value: file.name, maxlength: 64, required: true, oninput: (e: Event) => (file.name = (e.target as HTMLInputElement).value) })),
          h('div.field', null, h('label', { for: `file-text-${i}` }, t('labEditor.fileText', { name: file.name })), h('textarea.code', { id: `file-text-${i}`, rows: 6, spellcheck: 'false', oninput: (e: Event) => (file.text = (e.target as HTMLTextAreaElement).value) }, file.text)),
          files.length > 1 ? h('button', { type: 'button', onclick: () => { files.splice(i, 1); renderFiles() } }, t('labEditor.removeFile', { name: file.name })) : null,
        ),
      ),
      h('button', { type: 'button', onclick: () => { files.push({ name: `file${files.length + 1}.py`, text: '' }); renderFiles() } }, t('labEditor.addFile')),
    )
  }

  /** A step's hidden tests: each with its name and code; add, remove, move up or down. */
  function testsOf(step: StepIn, n: number, i: number): HTMLElement {
    const move = (from: number, to: number): void => {
      const [test] = step.tests.splice(from, 1)
      if (!test) return
      step.tests.splice(to, 0, test)
      renderSteps()
      announce(t('labEditor.testMoved', { k: to + 1 }))
      document.getElementById(`test-name-${i}-${to}`)?.focus()
    }
    return h(
      'fieldset.stack',
      { 'data-testid': 'step-tests' },
      h('legend', null, t('labEditor.stepTests', { n })),
      h('p.small.muted', null, t('labEditor.stepTestsHelp')),
      h(
        'ol.stack',
        null,
        step.tests.map((test, j) => {
          const k = j + 1
          return h(
            'li.card.stack',
            { 'data-testid': 'step-test' },
            h('div.field', null, h('label', { for: `test-name-${i}-${j}` }, t('labEditor.testName', { n, k })), h('input', { id: `test-name-${i}-${j}`, value: test.name, maxlength: 200, required: true, oninput: (e: Event) => (test.name = (e.target as HTMLInputElement).value) })),
            h('div.field', null, h('label', { for: `test-source-${i}-${j}` }, t('labEditor.testSource', { n, k })), h('textarea.code', { id: `test-source-${i}-${j}`, rows: 3, spellcheck: 'false', oninput: (e: Event) => (test.source = (e.target as HTMLTextAreaElement).value) }, test.source)),
            h(
              'p.row.wrap',
              null,
              j > 0 ? h('button', { type: 'button', onclick: () => move(j, j - 1) }, t('labEditor.testUp', { n, k })) : null,
              j < step.tests.length - 1 ? h('button', { type: 'button', onclick: () => move(j, j + 1) }, t('labEditor.testDown', { n, k })) : null,
              step.tests.length > 1
                ? h('button', { type: 'button', onclick: () => { step.tests.splice(j, 1); renderSteps(); document.getElementById(`add-test-${i}`)?.focus() } }, t('labEditor.removeTest', { n, k }))
                : null,
            ),
          )
        }),
      ),
      step.tests.length < MAX_TESTS
        ? h('button', { id: `add-test-${i}`, type: 'button', onclick: () => { step.tests.push(newTest(step)); renderSteps(); document.getElementById(`test-name-${i}-${step.tests.length - 1}`)?.focus() } }, t('labEditor.addTest', { n }))
        : null,
    )
  }

  function renderSteps(): void {
    fill(
      stepsBox,
      steps.map((step, i) => {
        const n = i + 1
        return h(
          'fieldset.card.stack',
          null,
          h('legend', null, t('lab.step', { n, title: step.title })),
          h('div.field', null, h('label', { for: `step-title-${i}` }, t('labEditor.stepTitle', { n })), h('input', { id: `step-title-${i}`, value: step.title, maxlength: 200, required: true, oninput: (e: Event) => (step.title = (e.target as HTMLInputElement).value) })),
          h('div.field', null, h('label', { for: `step-body-${i}` }, t('labEditor.stepBody', { n })), h('textarea', { id: `step-body-${i}`, rows: 3, oninput: (e: Event) => (step.body = (e.target as HTMLTextAreaElement).value) }, step.body)),
          h(
            'div.field',
            null,
            h('label', { for: `step-file-${i}` }, t('labEditor.stepFile', { n })),
            h(
              'select',
              { id: `step-file-${i}`, onchange: (e: Event) => (step.file = (e.target as HTMLSelectElement).value || null) },
              files.map((file) => h('option', { value: file.name, selected: (step.file ?? files[0]?.name) === file.name }, file.name)),
            ),
          ),
          h('div.field', null, h('label', { for: `step-points-${i}` }, t('labEditor.stepPoints', { n })), h('input', { id: `step-points-${i}`, type: 'number', min: 0, max: 1000, value: step.points, oninput: (e: Event) => (step.points = Number((e.target as HTMLInputElement).value) || 0) })),
          testsOf(step, n, i),
          h('button', { type: 'button', onclick: () => { steps.splice(i, 1); renderSteps() } }, t('labEditor.removeStep', { n })),
        )
      }),
      h('button', { type: 'button', onclick: () => { steps.push(newStep(steps.length + 1)); renderSteps() } }, t('labEditor.addStep')),
    )
  }

  async function save(event: Event): Promise<void> {
    event.preventDefault()
    problem.hidden = true
    const body: LabIn = {
      title: title.value.trim(),
      instructions: instructions.value,
      files,
      steps: steps.map((step) => ({ ...step, file: step.file ?? files[0]?.name ?? null, tests: step.tests.map((test) => ({ ...test, name: test.name.trim() || test.id })) })),
    }
    try {
      const saved = labId ? await labs.update(labId, body) : await labs.create(courseId, body)
      announce(t('labEditor.saved'))
      if (!labId) navigate(`/courses/${courseId}/labs/${saved.id}/edit`, true)
    } catch (error) {
      problem.textContent = readable(error)
      problem.hidden = false
      toast(readable(error), 'error')
    }
  }

  async function remove(): Promise<void> {
    if (!loaded) return
    const started = loaded.status !== 'draft'
    const body = started ? t('labEditor.deleteStarted') : t('labEditor.deleteDraft')
    if (!(await confirmDialog(t('labEditor.deleteTitle', { title: loaded.title }), body, t('labEditor.deleteConfirm'), true))) {
      deleteButton.focus()
      return
    }
    try {
      await labs.remove(loaded.id)
      toast(started ? t('labEditor.archived') : t('labEditor.deleted'), 'success')
      navigate(`/courses/${courseId}/labs`, true)
    } catch (error) {
      problem.textContent = readable(error)
      problem.hidden = false
    }
  }

  async function load(): Promise<void> {
    if (!labId) {
      renderFiles()
      renderSteps()
      return
    }
    try {
      const lab = await labs.get(labId)
      loaded = lab
      deleteButton.hidden = lab.status === 'archived'
      heading.textContent = t('labEditor.heading', { title: lab.title })
      title.value = lab.title
      instructions.value = lab.instructions
      files = lab.files.map((file) => ({ ...file }))
      steps = lab.steps.map((step) => ({ id: step.id, title: step.title, body: step.body, file: step.file, points: step.points, tests: step.tests ?? [] }))
      live.setAttribute('href', `/courses/${courseId}/labs/${labId}/live`)
      live.hidden = false
      renderFiles()
      renderSteps()
    } catch (error) {
      problem.textContent = readable(error)
      problem.hidden = false
    }
  }

  void load()
  return {
    title: t('labEditor.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack',
        null,
        h('p', null, h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('lab.back'))),
        heading,
        h('p.row.wrap', null, live, deleteButton),
        problem,
        h(
          'form.stack',
          { onsubmit: (event: Event) => void save(event) },
          h('div.field', null, h('label', { for: 'lab-title' }, t('labEditor.labTitle')), title),
          h('div.field', null, h('label', { for: 'lab-instructions' }, t('labEditor.instructions')), instructions),
          h('h2', null, t('labEditor.files')),
          filesBox,
          h('h2', null, t('labEditor.steps')),
          stepsBox,
          h('button.primary', { type: 'submit' }, t('labEditor.save')),
        ),
      ),
    ),
  }
}
