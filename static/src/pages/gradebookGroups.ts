// The assignment-group parts of the gradebook setup page: each group as a fieldset (name,
// weight, drop lowest/highest, extra credit; save, move up/down, delete), the form that adds
// a group, and the table that puts each graded item in a group. Every control is native
// (keyboard as usual); each change is sent at once and the page reloads what the server
// then holds (the caller recomputes the final grades).

import { h } from '../dom'
import { t } from '../i18n'
import { type Column, type Group, type GroupFields } from './gradebookApi'

/** What the group parts ask of their page: run one change, then reload and announce. */
export type Change = (call: () => Promise<unknown>, done: string) => Promise<void>

/** The calls the group parts make (bound to the course by the page). */
export interface GroupCalls {
  add: (fields: GroupFields) => Promise<unknown>
  change: (groupId: string, fields: GroupFields) => Promise<unknown>
  remove: (groupId: string) => Promise<unknown>
  move: (columnId: string, groupId: string) => Promise<unknown>
}

function numberInput(id: string, label: string, value: string, attrs: Record<string, string | number>): HTMLElement[] {
  return [h('label', { for: id }, label), h('input', { id, type: 'number', value, inputMode: 'decimal', ...attrs })]
}

function readNumber(root: HTMLElement, name: string): string {
  return (root.querySelector<HTMLInputElement>(`[data-field="${name}"]`)?.value ?? '').trim()
}

/** One group's fieldset. ``index`` and ``count`` say which move buttons make sense. */
function groupEditor(group: Group, index: number, order: Group[], calls: GroupCalls, change: Change): HTMLElement {
  const key = `g-${group.id}`
  const name = h('input', { id: `${key}-name`, type: 'text', value: group.name, required: true, maxLength: 200, 'data-field': 'name', autocomplete: 'off' })
  const extra = h('input', { id: `${key}-extra`, type: 'checkbox', checked: group.extra_credit, 'data-field': 'extra' })
  const root: HTMLFieldSetElement = h(
    'fieldset.card.stack.gradebook-group',
    { 'data-group': group.id },
    h('legend', null, group.name),
    h('div.form-grid', null,
      h('label', { for: `${key}-name` }, t('setup.groupName')), name,
      ...numberInput(`${key}-weight`, t('setup.weight'), group.weight, { min: 0, max: 100, step: 'any', 'data-field': 'weight' }),
      ...numberInput(`${key}-low`, t('setup.dropLowest'), String(group.drop_lowest), { min: 0, max: 100, step: 1, 'data-field': 'drop_lowest' }),
      ...numberInput(`${key}-high`, t('setup.dropHighest'), String(group.drop_highest), { min: 0, max: 100, step: 1, 'data-field': 'drop_highest' }),
    ),
    h('label.choice', null, extra, ' ', t('setup.extraCredit')),
    h('div.row.wrap', null,
      h('button.primary', {
        type: 'button',
        'data-key': `${key}-save`,
        onclick: () => {
          const fields: GroupFields = {
            name: name.value.trim(),
            weight: readNumber(root, 'weight') || '0',
            drop_lowest: Number(readNumber(root, 'drop_lowest') || 0),
            drop_highest: Number(readNumber(root, 'drop_highest') || 0),
            extra_credit: extra.checked,
          }
          void change(() => calls.change(group.id, fields), t('setup.groupSaved', { name: fields.name ?? group.name }))
        },
      }, t('setup.saveGroup', { name: group.name })),
      h('button', {
        type: 'button',
        'data-key': `${key}-up`,
        disabled: index === 0,
        onclick: () => void change(() => reorder(order, index, index - 1, calls), t('setup.moved', { name: group.name, position: index })),
      }, t('setup.moveUp', { name: group.name })),
      h('button', {
        type: 'button',
        'data-key': `${key}-down`,
        disabled: index === order.length - 1,
        onclick: () => void change(() => reorder(order, index, index + 1, calls), t('setup.moved', { name: group.name, position: index + 2 })),
      }, t('setup.moveDown', { name: group.name })),
      h('button.danger', {
        type: 'button',
        'data-key': `${key}-delete`,
        onclick: () => void change(() => calls.remove(group.id), t('setup.groupDeleted', { name: group.name })),
      }, t('setup.deleteGroup', { name: group.name })),
    ),
  )
  return root
}

/** Move the group at ``from`` to ``to`` and number every group by its place (so groups that
 * shared a position end up distinct); only the groups whose position changes are sent. */
async function reorder(order: Group[], from: number, to: number, calls: GroupCalls): Promise<void> {
  const next = [...order]
  const [moved] = next.splice(from, 1)
  next.splice(to, 0, moved)
  for (const [position, group] of next.entries()) {
    if (group.position !== position) await calls.change(group.id, { position })
  }
}

/** Every group's editor and the "add a group" form. */
export function groupsSection(groups: Group[], weighted: boolean, calls: GroupCalls, change: Change): HTMLElement {
  const total = groups.filter((g) => !g.extra_credit).reduce((sum, g) => sum + Number(g.weight), 0)
  const name = h('input#new-group-name', { type: 'text', required: true, maxLength: 200, autocomplete: 'off' })
  const weight = h('input#new-group-weight', { type: 'number', min: 0, max: 100, step: 'any', value: '0', inputMode: 'decimal' })
  return h(
    'section.stack',
    { 'aria-labelledby': 'setup-groups' },
    h('h2#setup-groups', null, t('setup.groups')),
    weighted ? h('p', { 'data-testid': 'weight-total' }, t('setup.weightTotal', { total: String(Math.round(total * 100) / 100) })) : h('p.muted', null, t('setup.unweighted')),
    groups.length ? groups.map((g, i) => groupEditor(g, i, groups, calls, change)) : h('p.muted', null, t('setup.noGroups')),
    h(
      'form.card.stack',
      {
        'aria-labelledby': 'setup-add-group',
        onsubmit: (event: Event) => {
          event.preventDefault()
          const fields = { name: name.value.trim(), weight: weight.value.trim() || '0' }
          if (!fields.name) return
          void change(() => calls.add(fields), t('setup.groupAdded', { name: fields.name }))
        },
      },
      h('h3#setup-add-group', null, t('setup.addGroup')),
      h('div.form-grid', null, h('label', { for: 'new-group-name' }, t('setup.groupName')), name, h('label', { for: 'new-group-weight' }, t('setup.weight')), weight),
      h('button.primary', { type: 'submit', 'data-key': 'add-group' }, t('setup.addGroup')),
    ),
  )
}

/** Which group each graded item belongs to: one select per item. */
export function itemsSection(columns: Column[], groups: Group[], calls: GroupCalls, change: Change): HTMLElement {
  return h(
    'section.stack',
    { 'aria-labelledby': 'setup-items' },
    h('h2#setup-items', null, t('setup.items')),
    columns.length
      ? h(
          'div.table-scroll',
          null,
          h(
            'table',
            null,
            h('caption.sr-only', null, t('setup.items')),
            h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('setup.item')), h('th', { scope: 'col' }, t('setup.itemGroup')))),
            h(
              'tbody',
              null,
              columns.map((column) =>
                h(
                  'tr',
                  null,
                  h('th', { scope: 'row' }, column.title, h('span.muted.small', null, ` · ${t('gradebook.points', { points: column.points_possible })}`)),
                  h(
                    'td',
                    null,
                    h(
                      'select',
                      {
                        'aria-label': t('setup.groupOf', { item: column.title }),
                        'data-key': `item-${column.id}`,
                        onchange: (event: Event) => {
                          const target = (event.target as HTMLSelectElement).value
                          const group = groups.find((g) => g.id === target)
                          void change(() => calls.move(column.id, target), t('setup.itemMoved', { item: column.title, group: group?.name ?? '' }))
                        },
                      },
                      groups.map((g) => h('option', { value: g.id, selected: g.id === column.group_id }, g.name)),
                    ),
                  ),
                ),
              ),
            ),
          ),
        )
      : h('p.muted', null, t('gradebook.noColumns')),
  )
}
