// The output of a Python run (labs/pyodide.ts) as a view: what was printed, error output and
// the traceback, each in its own labelled, keyboard-scrollable block, with a status line that
// screen readers announce politely. Used by the scratchpad page and the lab page.

import { fill, h } from '../dom'
import { t } from '../i18n'
import type { RunResult } from './pyodide'

export interface RunOutputView {
  el: HTMLElement
  /** Sets the status line (announced). */
  status(text: string): void
  /** Shows a finished run. */
  show(result: RunResult): void
  clear(): void
}

function block(name: string, label: string, text: string): HTMLElement {
  return h(
    'div.run-block',
    { 'data-testid': `run-${name}` },
    h('h3.run-label', { id: `run-${name}-label` }, label),
    h(`pre.run-text.run-${name}`, { tabindex: 0, 'aria-labelledby': `run-${name}-label` }, text),
  )
}

export function runOutputView(headingLevel: 'h2' | 'h3' = 'h2'): RunOutputView {
  const statusLine = h('p.muted', { role: 'status', 'data-testid': 'run-status' })
  const body = h('div.stack.tight', { 'data-testid': 'run-output' })
  const el = h('section.run-output.stack.tight', { 'aria-labelledby': 'run-output-heading' }, h(headingLevel, { id: 'run-output-heading' }, t('python.output')), statusLine, body)
  return {
    el,
    status(text) {
      statusLine.textContent = text
    },
    show(result) {
      const parts: HTMLElement[] = []
      if (result.stdout) parts.push(block('stdout', t('python.stdout'), result.stdout))
      if (result.stderr) parts.push(block('stderr', t('python.stderr'), result.stderr))
      if (result.error) parts.push(block('error', t('python.error'), result.error))
      if (!parts.length) parts.push(h('p.muted', null, t('python.noOutput')))
      fill(body, parts)
      statusLine.textContent = result.error ? t('python.failed', { ms: result.ms }) : t('python.finished', { ms: result.ms })
    },
    clear() {
      fill(body)
    },
  }
}
