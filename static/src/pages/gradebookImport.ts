// The gradebook's CSV import: choose a file, see every grade it would change (now -> after)
// and every problem per row, then apply it all at once with the preview's version, or
// cancel. Nothing is written before Apply.

import { announce, fill, h } from '../dom'
import { t } from '../i18n'
import { type ImportPreview, gradebook, readable } from './gradebookApi'

export function importPanel(courseId: string, applied: () => Promise<void>): HTMLElement {
  const result = h('div.stack', { 'data-testid': 'import-preview' })
  const input = h('input#gradebook-import', { type: 'file', accept: '.csv,text/csv' })
  input.addEventListener('change', () => void choose())

  async function choose(): Promise<void> {
    const file = input.files?.[0]
    if (!file) return
    const text = await file.text()
    try {
      show(text, await gradebook.preview(courseId, text))
    } catch (error) {
      fill(result, h('p.error', { role: 'alert' }, readable(error)))
    }
  }

  function show(text: string, preview: ImportPreview): void {
    const heading = h('h3#import-preview-title', { tabindex: -1 }, t('gradebook.previewTitle'))
    const summary = preview.errors.length
      ? t('gradebook.previewErrors', { count: preview.errors.length })
      : t('gradebook.previewChanges', { count: preview.changes.length })
    fill(
      result,
      heading,
      h('p', { role: 'status' }, summary),
      preview.errors.length
        ? h(
            'div.table-wrap',
            null,
            h(
              'table.table',
              { 'aria-labelledby': 'import-preview-title' },
              h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('gradebook.row')), h('th', { scope: 'col' }, t('gradebook.problem')))),
              h('tbody', null, preview.errors.map((e) => h('tr', null, h('td', null, String(e.row)), h('td', null, e.message)))),
            ),
          )
        : null,
      preview.changes.length
        ? h(
            'div.table-wrap',
            null,
            h(
              'table.table',
              { 'aria-labelledby': 'import-preview-title', 'data-testid': 'import-changes' },
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  h('th', { scope: 'col' }, t('gradebook.student')),
                  h('th', { scope: 'col' }, t('gradebook.column')),
                  h('th', { scope: 'col' }, t('gradebook.old')),
                  h('th', { scope: 'col' }, t('gradebook.new')),
                ),
              ),
              h(
                'tbody',
                null,
                preview.changes.map((c) =>
                  h('tr', null, h('td', null, c.student), h('td', null, c.column), h('td', null, c.old || '–'), h('td', null, c.new || '–')),
                ),
              ),
            ),
          )
        : null,
      h(
        'div.row.wrap',
        null,
        h(
          'button.primary',
          {
            type: 'button',
            disabled: preview.errors.length > 0 || preview.changes.length === 0,
            onclick: async () => {
              try {
                const done = await gradebook.apply(courseId, text, preview.version)
                fill(result)
                input.value = ''
                await applied()
                announce(t('gradebook.applied', { count: done.applied }))
              } catch (error) {
                fill(result, h('p.error', { role: 'alert' }, readable(error)))
              }
            },
          },
          t('gradebook.apply'),
        ),
        h('button', { type: 'button', onclick: () => { fill(result); input.value = '' } }, t('gradebook.cancelImport')),
      ),
    )
    heading.focus()
  }

  return h(
    'div.stack',
    null,
    h('label', { for: 'gradebook-import' }, t('gradebook.importCsv')),
    h('p.muted.small', null, t('gradebook.importHelp')),
    input,
    result,
  )
}
