// A course's cohorts: the list (staff see all, learners theirs), the form instructors use
// to create one with its pacing, and the page where a learner joins with a code.

import * as api from '../api'
import { announce, fill, h } from '../dom'
import { formatDate, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { type Cohort, cohorts, readable } from './cohortApi'
import { FormErrors, field, group, numberInput, numberOf, textInput } from './formkit'
import { topbar } from './shell'

function dates(cohort: Cohort): string {
  return t('cohorts.dates', { start: formatDate(`${cohort.start_date}T12:00:00Z`), end: formatDate(`${cohort.end_date}T12:00:00Z`), zone: cohort.time_zone })
}

function card(cohort: Cohort): HTMLElement {
  return h(
    'li.card.stack',
    { 'data-testid': 'cohort-card' },
    h('h3', null, h('a', { href: `/cohorts/${cohort.id}`, 'data-link': '' }, cohort.name)),
    h('p.muted.small', null, dates(cohort)),
    h('p.small', null, t('cohorts.members', { count: cohort.members }), cohort.capacity ? ` · ${t('cohorts.capacity', { capacity: cohort.capacity })}` : ''),
  )
}

function createForm(courseId: string, modules: api.Module[], created: (cohort: Cohort) => void): HTMLElement {
  const errors = new FormErrors()
  const name = textInput('', { required: true, maxlength: 200 })
  const zone = textInput(Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', { required: true, maxlength: 64 })
  const today = new Date().toISOString().slice(0, 10)
  const start = h('input', { type: 'date', required: true, value: today })
  const end = h('input', { type: 'date', required: true, value: today })
  const capacity = numberInput(null, { inputmode: 'numeric' })
  const offsets = modules.map((module) => ({ module, input: numberInput(null, { inputmode: 'numeric', 'data-module-id': module.id }) }))
  const form = h(
    'form.card.stack',
    { 'aria-labelledby': 'cohort-create-title', novalidate: true },
    h('h2#cohort-create-title', null, t('cohorts.create')),
    errors.summary,
    field(t('cohorts.name'), name, { key: 'name', errors }),
    field(t('cohorts.zone'), zone, { key: 'time_zone', errors }),
    h('div.row.wrap', null, field(t('cohorts.start'), start, { key: 'start_date', errors }), field(t('cohorts.end'), end, { key: 'end_date', errors })),
    field(t('cohorts.capacityField'), capacity, { key: 'capacity', errors }),
    modules.length
      ? group(
          t('cohorts.pacing'),
          offsets.map(({ module, input }) => field(t('cohorts.pacingModule', { module: module.title }), input)),
          { key: 'pacing', errors, hint: t('cohorts.pacingHelp') },
        )
      : null,
    h('p', null, h('button.primary', { type: 'submit' }, t('cohorts.create'))),
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    errors.clear()
    try {
      const pacing = offsets
        .map(({ module, input }) => ({ module_id: module.id, offset_days: numberOf(input) }))
        .filter((p) => p.offset_days !== null) as { module_id: string; offset_days: number }[]
      const cohort = await cohorts.create(courseId, {
        name: name.value.trim(),
        time_zone: zone.value.trim(),
        start_date: start.value,
        end_date: end.value,
        capacity: numberOf(capacity) as number | null,
        pacing,
      })
      form.reset()
      announce(t('cohorts.created', { name: cohort.name }))
      created(cohort)
    } catch (error) {
      errors.show(error)
    }
  })
  return form
}

export function cohortsPage(courseId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', null, t('cohorts.title'))
  const list = h('ul.stack.plain', { 'aria-busy': 'true' }, h('li.muted', null, t('cohorts.loading')))
  const side = h('div.stack')

  async function load(): Promise<void> {
    try {
      const [course, found] = await Promise.all([api.content.course(courseId), cohorts.list(courseId)])
      heading.textContent = t('cohorts.heading', { course: course.title })
      list.setAttribute('aria-busy', 'false')
      fill(list, found.items.length ? found.items.map(card) : h('li.muted', null, t('cohorts.none')))
      const manager = course.my_role === 'instructor' || (course.my_role === null && user.role === 'admin')
      if (manager && !side.childElementCount) {
        const content = await api.content.get(courseId)
        side.append(createForm(courseId, content.modules, (cohort) => navigate(`/cohorts/${cohort.id}`)))
      }
    } catch (error) {
      list.setAttribute('aria-busy', 'false')
      fill(list, h('li.error', { role: 'alert' }, readable(error)))
    }
  }

  void load()
  return {
    title: t('cohorts.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack',
        null,
        h('p', null, h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('cohorts.back'))),
        heading,
        h('p', null, h('a', { href: '/cohorts/join', 'data-link': '' }, t('cohorts.join.title'))),
        list,
        side,
      ),
    ),
  }
}

export function joinCohortPage(user: api.User, navigate: Navigate): Page {
  const errors = new FormErrors()
  const code = textInput('', { required: true, maxlength: 64, autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false' })
  const form = h(
    'form.card.stack',
    { novalidate: true, 'aria-labelledby': 'join-title' },
    errors.summary,
    field(t('cohorts.join.code'), code, { key: 'code', errors, hint: t('cohorts.join.help') }),
    h('p', null, h('button.primary', { type: 'submit' }, t('cohorts.join.submit'))),
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    errors.clear()
    try {
      const joined = await cohorts.join(code.value)
      announce(t('cohorts.join.done'))
      navigate(`/cohorts/${joined.cohort_id}`)
    } catch (error) {
      errors.show(error)
      code.focus()
    }
  })
  return {
    title: t('cohorts.join.title'),
    el: h('div', null, topbar(user, navigate), h('main#main.page.stack.narrow', null, h('h1#join-title', null, t('cohorts.join.title')), form)),
  }
}

export function acceptInvitationPage(user: api.User, navigate: Navigate): Page {
  const token = new URLSearchParams(location.search).get('token') ?? ''
  const status = h('div', { role: 'status' })
  const button = h(
    'button.primary',
    {
      type: 'button',
      disabled: !token,
      onclick: async () => {
        try {
          const joined = await cohorts.accept(token)
          announce(t('invitation.done'))
          navigate(`/cohorts/${joined.cohort_id}`)
        } catch (error) {
          fill(status, h('p.error', { role: 'alert' }, readable(error)))
        }
      },
    },
    t('invitation.accept'),
  )
  return {
    title: t('invitation.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack.narrow',
        null,
        h('h1', null, t('invitation.title')),
        h('p', null, token ? t('invitation.help') : t('invitation.missing')),
        h('p', null, button),
        status,
      ),
    ),
  }
}
