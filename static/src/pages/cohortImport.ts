// A cohort's CSV import: choose a file with an "email" column, see who it would add and
// every problem per row, then apply it all at once with the preview's version, or cancel.
// Nothing is written before Apply.

import { announce, fill, h } from '../dom'
import { t } from '../i18n'
import { type ImportPreview, cohorts, readable } from './cohortApi'

export function cohortImportPanel(cohortId: string, applied: () => Promise<void>): HTMLElement {
  const result = h('div.stack', { 'data-testid': 'cohort-import-preview' })
  const input = h('input#cohort-import', { type: 'file', accept: '.csv,text/csv' })
  input.addEventListener('change', () => void choose())

  async function choose(): Promise<void> {
    const file = input.files?.[0]
    if (!file) return
    const text = await file.text()
    try {
      show(text, await cohorts.preview(cohortId, text))
    } catch (error) {
      fill(result, h('p.error', { role: 'alert' }, readable(error)))
    }
  }

  function reset(): void {
    fill(result)
    input.value = ''
  }

  function show(text: string, preview: ImportPreview): void {
    const heading = h('h4#cohort-import-title', { tabindex: -1 }, t('cohortImport.previewTitle'))
    const summary = preview.errors.length
      ? t('cohortImport.errors', { count: preview.errors.length })
      : t('cohortImport.adds', { count: preview.adds.length })
    fill(
      result,
      heading,
      h('p', { role: 'status' }, summary),
      preview.errors.length
        ? h(
            'ul',
            { 'aria-labelledby': 'cohort-import-title' },
            preview.errors.map((e) => h('li', null, e.row ? t('cohortImport.row', { row: e.row, message: e.message }) : e.message)),
          )
        : null,
      preview.adds.length ? h('ul.plain', { 'data-testid': 'cohort-import-adds' }, preview.adds.map((a) => h('li', null, `${a.name} · ${a.email}`))) : null,
      h(
        'div.row.wrap',
        null,
        h(
          'button.primary',
          {
            type: 'button',
            disabled: preview.errors.length > 0 || preview.adds.length === 0,
            onclick: async () => {
              try {
                const done = await cohorts.apply(cohortId, text, preview.version)
                reset()
                await applied()
                announce(t('cohortImport.applied', { count: done.added }))
              } catch (error) {
                fill(result, h('p.error', { role: 'alert' }, readable(error)))
              }
            },
          },
          t('cohortImport.apply'),
        ),
        h('button', { type: 'button', onclick: reset }, t('cohortImport.cancel')),
      ),
    )
    heading.focus()
  }

  return h('div.stack', null, h('label', { for: 'cohort-import' }, t('cohortImport.label')), h('p.muted.small', null, t('cohortImport.help')), input, result)
}
