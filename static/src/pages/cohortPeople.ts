// The people of a cohort, for its staff: the members with how they came and every move
// into or out of the cohort on their row; for its managers, moving a learner to another
// cohort (with a reason kept in the history), removing one (confirmed, with a reason for
// the audit log), inviting and importing; and the facilitators, named from the course's
// roster or withdrawn. Each change is confirmed in the section's live status line.

import { fill, h, modal } from '../dom'
import { formatDate, type MessageKey, t } from '../i18n'
import { type Cohort, type Membership, type Transfer, cohorts, readable } from './cohortApi'
import { cohortImportPanel } from './cohortImport'
import { FormErrors, field, select, textArea, textInput } from './formkit'

/** A titled card section (the cohort page's building block). */
export function section(id: string, title: string, ...content: (HTMLElement | null)[]): HTMLElement {
  return h('section.card.stack', { 'aria-labelledby': id }, h(`h2#${id}`, null, title), ...content)
}

function statusLine(testid: string): HTMLElement {
  return h('p.small', { role: 'status', 'data-testid': testid })
}

/** A modal with a reason box and a confirm button; ``act`` runs on submit, errors stay in it. */
function reasonDialog(title: string, body: string | null, choices: HTMLElement | null, reasonLabel: string, confirm: string, danger: boolean, act: (reason: string) => Promise<void>): void {
  const errors = new FormErrors()
  const reason = textArea('', 3, { maxlength: 500 })
  const cancel = h('button', { type: 'button' }, t('dialog.cancel'))
  const form = h(
    'form.stack',
    { novalidate: true },
    errors.summary,
    body ? h('p', null, body) : null,
    choices,
    field(reasonLabel, reason, { key: 'reason', errors }),
    h('div.row.end.wrap', null, cancel, h('button', { type: 'submit', class: danger ? 'danger' : 'primary' }, confirm)),
  )
  const dialog = modal(title, form)
  cancel.addEventListener('click', () => dialog.close())
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    errors.clear()
    try {
      await act(reason.value.trim())
      dialog.close()
    } catch (error) {
      errors.show(error)
    }
  })
}

function viaText(member: Membership): string {
  const key = `cohort.via.${member.via}` as MessageKey
  return t('cohort.joinedVia', { date: formatDate(member.joined_at), via: t(key) })
}

function historyLines(moves: Transfer[], nameOf: (id: string) => string): HTMLElement[] {
  return moves.map((m) => {
    const params = { from: nameOf(m.from_cohort_id), to: nameOf(m.to_cohort_id), date: formatDate(m.at), reason: m.reason }
    return h('li.small', { 'data-testid': 'member-history' }, t(m.reason ? 'cohort.historyReason' : 'cohort.history', params))
  })
}

/** The members section (facilitators see it; managers get the actions). */
export function membersSection(cohort: Cohort): HTMLElement {
  const id = cohort.id
  const status = statusLine('members-status')
  const list = h('div', { 'aria-busy': 'true' })
  let others: Cohort[] = []
  const names = new Map<string, string>([[id, cohort.name]])
  const nameOf = (cohortId: string): string => names.get(cohortId) ?? t('cohort.anotherCohort')

  const tell = (text: string): void => {
    status.textContent = text
  }

  function moveDialog(member: Membership): void {
    const to = select(
      others.map((c) => [c.id, c.name]),
      others[0]?.id ?? '',
      { required: true },
    )
    reasonDialog(t('cohort.moveTitle', { name: member.name }), null, field(t('cohort.moveTo'), to, { key: 'to_cohort_id' }), t('cohort.moveReason'), t('cohort.moveConfirm'), false, async (reason) => {
      await cohorts.transfer(id, member.user_id, to.value, reason)
      tell(t('cohort.moved', { name: member.name, cohort: nameOf(to.value) }))
      await render()
    })
  }

  function removeDialog(member: Membership): void {
    const body = t('cohort.removeBody', { name: member.name })
    reasonDialog(t('cohort.removeTitle', { name: member.name }), body, null, t('cohort.removeReason'), t('cohort.removeConfirm'), true, async (reason) => {
      await cohorts.removeMember(id, member.user_id, reason)
      tell(t('cohort.removed', { name: member.name }))
      await render()
    })
  }

  function row(member: Membership, moves: Transfer[]): HTMLElement {
    const mine = moves.filter((m) => m.user_id === member.user_id)
    const actions = cohort.can_manage
      ? h(
          'div.row.wrap',
          null,
          h('button', { type: 'button', disabled: !others.length, 'aria-label': t('cohort.moveLabel', { name: member.name }), onclick: () => moveDialog(member) }, t('cohort.move')),
          h('button.danger', { type: 'button', 'aria-label': t('cohort.removeLabel', { name: member.name }), onclick: () => removeDialog(member) }, t('cohort.remove')),
        )
      : null
    return h(
      'li.stack.member-row',
      { 'data-testid': 'member' },
      h('div.row.between.wrap', null, h('div', null, h('strong', null, member.name), member.email ? h('span.muted.small', null, ` · ${member.email}`) : null), actions),
      h('p.muted.small', null, viaText(member)),
      mine.length ? h('ul.plain', { 'aria-label': t('cohort.moveTitle', { name: member.name }) }, historyLines(mine, nameOf)) : null,
    )
  }

  async function render(): Promise<void> {
    list.setAttribute('aria-busy', 'true')
    try {
      const [members, moves, all] = await Promise.all([
        cohorts.members(id),
        cohorts.transfers(id),
        cohorts.list(cohort.course_id).then((page) => page.items),
      ])
      for (const c of all) names.set(c.id, c.name)
      others = all.filter((c) => c.id !== id && c.can_manage)
      fill(
        list,
        members.items.length ? h('ul.plain.stack', { 'data-testid': 'members' }, members.items.map((m) => row(m, moves.items))) : h('p.muted', null, t('cohort.noMembers')),
        cohort.can_manage && !others.length ? h('p.small.muted', null, t('cohort.moveNone')) : null,
      )
    } catch (error) {
      fill(list, h('p.error', { role: 'alert' }, readable(error)))
    }
    list.setAttribute('aria-busy', 'false')
  }

  void render()
  return section(
    'cohort-members',
    t('cohort.members'),
    status,
    list,
    cohort.can_manage ? h('h3', null, t('cohort.invite')) : null,
    cohort.can_manage ? inviteForm(id) : null,
    cohort.can_manage ? cohortImportPanel(id, render) : null,
  )
}

function inviteForm(cohortId: string): HTMLElement {
  const errors = new FormErrors()
  const email = textInput('', { type: 'email', required: true, maxlength: 320, autocomplete: 'off' })
  const status = h('p', { role: 'status' })
  const form = h(
    'form.stack',
    { novalidate: true },
    errors.summary,
    field(t('cohort.inviteEmail'), email, { key: 'email', errors }),
    h('p', null, h('button', { type: 'submit' }, t('cohort.invite'))),
    status,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    errors.clear()
    try {
      await cohorts.invite(cohortId, email.value.trim())
      status.textContent = t('cohort.invited', { email: email.value.trim() })
      form.reset()
    } catch (error) {
      errors.show(error)
    }
  })
  return form
}

/** The facilitators section: everyone reads it; managers name and withdraw facilitators. */
export function facilitatorsSection(initial: Cohort): HTMLElement {
  const id = initial.id
  const status = statusLine('facilitators-status')
  const body = h('div.stack')

  function withdraw(person: { user_id: string; name: string }): void {
    reasonlessConfirm(t('cohort.facilitatorWithdrawTitle', { name: person.name }), t('cohort.facilitatorWithdrawBody', { name: person.name }), async () => {
      await cohorts.removeFacilitator(id, person.user_id)
      status.textContent = t('cohort.facilitatorWithdrawn', { name: person.name })
      await render(await cohorts.get(id))
    })
  }

  async function addForm(cohort: Cohort): Promise<HTMLElement> {
    const taken = new Set(cohort.facilitators.map((f) => f.user_id))
    const roster = (await cohorts.roster(cohort.course_id)).filter((p) => !taken.has(p.user_id))
    if (!roster.length) return h('p.small.muted', null, t('cohort.facilitatorNone'))
    const errors = new FormErrors()
    const pick = select(
      roster.map((p) => [p.user_id, `${p.name} (${p.email})`]),
      roster[0].user_id,
    )
    const form = h(
      'form.stack',
      { novalidate: true, 'aria-labelledby': 'facilitator-add' },
      h('h3#facilitator-add', null, t('cohort.facilitatorAdd')),
      errors.summary,
      field(t('cohort.facilitatorPick'), pick, { key: 'user_id', errors }),
      h('p', null, h('button', { type: 'submit' }, t('cohort.facilitatorAdd'))),
    )
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      errors.clear()
      const person = roster.find((p) => p.user_id === pick.value)
      try {
        await cohorts.addFacilitator(id, pick.value)
        status.textContent = t('cohort.facilitatorAdded', { name: person?.name ?? '' })
        await render(await cohorts.get(id))
      } catch (error) {
        errors.show(error)
      }
    })
    return form
  }

  async function render(cohort: Cohort): Promise<void> {
    const people = cohort.facilitators.length
      ? h(
          'ul.plain.stack',
          { 'data-testid': 'facilitators' },
          cohort.facilitators.map((f) =>
            h(
              'li.row.between.wrap',
              { 'data-testid': 'facilitator' },
              h('span', null, f.name),
              cohort.can_manage
                ? h('button', { type: 'button', 'aria-label': t('cohort.facilitatorWithdrawLabel', { name: f.name }), onclick: () => withdraw(f) }, t('cohort.facilitatorWithdraw'))
                : null,
            ),
          ),
        )
      : h('p.muted', null, t('cohort.noFacilitators'))
    let adding: HTMLElement | null = null
    if (cohort.can_manage) {
      try {
        adding = await addForm(cohort)
      } catch (error) {
        adding = h('p.error', { role: 'alert' }, readable(error))
      }
    }
    fill(body, people, adding)
  }

  void render(initial)
  return section('cohort-facilitators', t('cohort.facilitators'), status, body)
}

function reasonlessConfirm(title: string, text: string, act: () => Promise<void>): void {
  const errors = new FormErrors()
  const cancel = h('button', { type: 'button' }, t('dialog.cancel'))
  const form = h('form.stack', { novalidate: true }, errors.summary, h('p', null, text), h('div.row.end.wrap', null, cancel, h('button.danger', { type: 'submit' }, t('cohort.facilitatorWithdraw'))))
  const dialog = modal(title, form)
  cancel.addEventListener('click', () => dialog.close())
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    errors.clear()
    try {
      await act()
      dialog.close()
    } catch (error) {
      errors.show(error)
    }
  })
}
