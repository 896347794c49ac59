// Scheduling a workshop (organisers): its text, the local start and the organiser's IANA time
// zone, the length, a recurrence builder that writes the RRULE (shown as it is built), the
// seats, the waitlist and the deadlines. Editing changes the text, seats and deadlines; the
// schedule stays as it was made.

import * as api from '../api'
import { h } from '../dom'
import { t } from '../i18n'
import type { Navigate, Page } from '../main'
import { FormErrors, checkbox, field, group, numberInput, numberOf, select, textArea, textInput } from './formkit'
import { topbar } from './shell'
import { type Workshop, readable, workshops } from './workshopApi'

const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const

function zones(): string[] {
  const supported = (Intl as unknown as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf
  const found = supported ? supported('timeZone') : []
  return found.length ? found : ['UTC']
}

/** The recurrence builder: its controls and the RRULE they make (null: one session). */
export function recurrence(errors?: FormErrors): { el: HTMLElement; rule: () => string | null } {
  const freq = select(
    [
      ['', t('workshopEditor.repeat.none')],
      ['DAILY', t('workshopEditor.repeat.daily')],
      ['WEEKLY', t('workshopEditor.repeat.weekly')],
      ['MONTHLY', t('workshopEditor.repeat.monthly')],
    ],
    '',
  )
  const interval = numberInput(1, { inputmode: 'numeric' })
  const count = numberInput(4, { inputmode: 'numeric' })
  const days = WEEKDAYS.map((day) => checkbox(false, { value: day }))
  const dayBox = group(
    t('workshopEditor.onDays'),
    h('div.row.wrap', null, days.map((box, i) => field(t(`workshopEditor.day.${WEEKDAYS[i]}`), box, { inline: true }))),
  )
  const output = h('output', { 'data-testid': 'rrule' })
  const details = h('div.stack', { hidden: true }, field(t('workshopEditor.interval'), interval), dayBox, field(t('workshopEditor.count'), count))

  function rule(): string | null {
    if (!freq.value) return null
    const parts = [`FREQ=${freq.value}`]
    const every = Number(interval.value)
    if (Number.isInteger(every) && every > 1) parts.push(`INTERVAL=${every}`)
    const chosen = days.filter((d) => d.checked).map((d) => d.value)
    if (freq.value === 'WEEKLY' && chosen.length) parts.push(`BYDAY=${chosen.join(',')}`)
    parts.push(`COUNT=${count.value.trim() || '1'}`)
    return parts.join(';')
  }

  function sync(): void {
    details.hidden = !freq.value
    dayBox.hidden = freq.value !== 'WEEKLY'
    const made = rule()
    output.textContent = made ? t('workshopEditor.rule', { rule: made }) : t('workshopEditor.once')
  }

  for (const control of [freq, interval, count, ...days]) control.addEventListener('input', sync)
  freq.addEventListener('change', sync)
  sync()
  const el = group(t('workshopEditor.recurrence'), [field(t('workshopEditor.repeat'), freq), details, h('p', { 'aria-live': 'polite' }, output)], { key: 'rrule', errors })
  return { el, rule }
}

export function workshopEditorPage(id: string | null, user: api.User, navigate: Navigate): Page {
  const errors = new FormErrors()
  const title = textInput('', { required: true, maxlength: 200 })
  const description = textArea('', 4, { maxlength: 20000 })
  const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone
  const zone = select(zones().map((z) => [z, z.replace(/_/g, ' ')]), viewerZone)
  const start = h('input', { type: 'datetime-local', required: true })
  const duration = numberInput(60, { inputmode: 'numeric' })
  const capacity = numberInput(20, { inputmode: 'numeric' })
  const waitlist = numberInput(100, { inputmode: 'numeric' })
  const cutoff = numberInput(0, { inputmode: 'numeric' })
  const confirmWithin = numberInput(1440, { inputmode: 'numeric' })
  const repeat = recurrence(errors)
  const heading = h('h1', null, id ? t('workshopEditor.editTitle') : t('workshopEditor.newTitle'))
  const scheduleBox = h(
    'div.stack',
    null,
    field(t('workshopEditor.zone'), zone, { key: 'time_zone', errors, hint: t('workshopEditor.zoneHint') }),
    field(t('workshopEditor.start'), start, { key: 'start', errors, hint: t('workshopEditor.startHint') }),
    field(t('workshopEditor.duration'), duration, { key: 'duration_minutes', errors }),
    repeat.el,
  )
  const scheduleNote = h('p.muted', { hidden: true })
  let loaded: Workshop | null = null

  async function save(event: Event): Promise<void> {
    event.preventDefault()
    errors.clear()
    const seats = {
      title: title.value.trim(),
      description: description.value,
      capacity: numberOf(capacity),
      waitlist_capacity: numberOf(waitlist),
      cancel_cutoff_minutes: numberOf(cutoff),
      confirm_minutes: numberOf(confirmWithin),
    }
    try {
      const saved = loaded
        ? await workshops.update(loaded.id, seats)
        : await workshops.create({
            ...seats,
            time_zone: zone.value,
            start: start.value.length === 16 ? `${start.value}:00` : start.value,
            duration_minutes: numberOf(duration),
            rrule: repeat.rule(),
          })
      navigate(`/workshops/${saved.id}/manage`)
    } catch (error) {
      errors.show(error)
    }
  }

  if (id) {
    workshops.get(id).then(
      (workshop) => {
        loaded = workshop
        title.value = workshop.title
        description.value = workshop.description
        capacity.value = String(workshop.capacity)
        waitlist.value = String(workshop.waitlist_capacity)
        cutoff.value = String(workshop.cancel_cutoff_minutes)
        confirmWithin.value = String(workshop.confirm_minutes)
        scheduleBox.hidden = true
        scheduleNote.hidden = false
        scheduleNote.textContent = t('workshopEditor.scheduleFixed', { start: workshop.start.replace('T', ' '), zone: workshop.time_zone, rule: workshop.rrule ?? t('workshopEditor.once') })
      },
      (error: unknown) => errors.show(new Error(readable(error))),
    )
  }

  return {
    title: id ? t('workshopEditor.editTitle') : t('workshopEditor.newTitle'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack',
        null,
        h('p', null, h('a', { href: id ? `/workshops/${id}/manage` : '/workshops', 'data-link': '' }, t('workshops.back'))),
        heading,
        h(
          'form.stack',
          { novalidate: true, onsubmit: (event: Event) => void save(event) },
          errors.summary,
          field(t('workshopEditor.name'), title, { key: 'title', errors }),
          field(t('workshopEditor.description'), description, { key: 'description', errors }),
          scheduleNote,
          scheduleBox,
          field(t('workshopEditor.capacity'), capacity, { key: 'capacity', errors }),
          field(t('workshopEditor.waitlist'), waitlist, { key: 'waitlist_capacity', errors }),
          field(t('workshopEditor.cutoff'), cutoff, { key: 'cancel_cutoff_minutes', errors, hint: t('workshopEditor.cutoffHint') }),
          field(t('workshopEditor.confirmWithin'), confirmWithin, { key: 'confirm_minutes', errors, hint: t('workshopEditor.confirmHint') }),
          h('button.primary', { type: 'submit' }, id ? t('workshopEditor.save') : t('workshopEditor.create')),
        ),
      ),
    ),
  }
}
