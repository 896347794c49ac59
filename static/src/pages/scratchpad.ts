// The Python scratchpad: code and input, Run (or Ctrl+Enter) and Stop, and the output. Python
// runs in the browser (labs/pyodide.ts): quick feedback for anyone signed in, nothing stored.

import type * as api from '../api'
import { h } from '../dom'
import { t } from '../i18n'
import { cancel, runPython, warmUp } from '../labs/pyodide'
import { runOutputView } from '../labs/runOutput'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'

const SAMPLE = 'name = input("Your name? ")\nprint(f"Hello, {name}!")\n'

export function scratchpadPage(user: api.User, navigate: Navigate): Page {
  const code = h('textarea#scratch-code.code', { rows: 12, spellcheck: false, autocapitalize: 'off', 'aria-describedby': 'scratch-hint' }) as HTMLTextAreaElement
  code.value = SAMPLE
  const stdin = h('textarea#scratch-stdin.code', { rows: 3, spellcheck: false, autocapitalize: 'off' }) as HTMLTextAreaElement
  stdin.value = 'Ada\n'
  const helper = h('textarea#scratch-helper.code', { rows: 6, spellcheck: false, autocapitalize: 'off', 'aria-describedby': 'scratch-helper-hint' }) as HTMLTextAreaElement
  const output = runOutputView()
  const run = h('button.primary', { type: 'submit', 'data-testid': 'run' }, t('python.run')) as HTMLButtonElement
  const stop = h('button', { type: 'button', disabled: true, onclick: () => cancel() }, t('python.stop')) as HTMLButtonElement
  let alive = true

  async function go(): Promise<void> {
    run.disabled = true
    stop.disabled = false
    output.status(t('python.running'))
    output.el.setAttribute('aria-busy', 'true')
    const result = await runPython(code.value, { stdin: stdin.value, files: helper.value.trim() ? { 'helper.py': helper.value } : {} })
    if (!alive) return
    output.el.removeAttribute('aria-busy')
    output.show(result)
    run.disabled = false
    stop.disabled = true
  }

  code.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && !run.disabled) {
      event.preventDefault()
      void go()
    }
  })
  const form = h(
    'form.stack',
    {
      onsubmit: (event: Event) => {
        event.preventDefault()
        void go()
      },
    },
    h('div.field', null, h('label', { for: 'scratch-code' }, t('python.code')), code, h('p#scratch-hint.muted', null, t('python.run.hint'))),
    h('div.field', null, h('label', { for: 'scratch-stdin' }, t('python.stdin')), stdin),
    h(
      'details.field',
      null,
      h('summary', null, t('python.helper.summary')),
      h('label', { for: 'scratch-helper' }, t('python.helper')),
      helper,
      h('p#scratch-helper-hint.muted', null, t('python.helper.hint')),
    ),
    h('div.row', null, run, stop),
  )
  output.status(t('python.loading'))
  warmUp().then(
    () => {
      if (alive && !run.disabled) output.status(t('python.ready'))
    },
    () => undefined,
  )
  return {
    title: t('python.scratchpad.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h('main#main.page.scratchpad', null, h('h1', null, t('python.scratchpad.title')), h('p.muted', null, t('python.scratchpad.intro')), form, output.el),
    ),
    destroy: () => {
      alive = false
    },
  }
}
