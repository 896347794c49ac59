// Notification e-mail settings: for each category, at once, in a daily digest, or none.

import * as api from '../api'
import { fill, h } from '../dom'
import { t, type MessageKey } from '../i18n'
import { en } from '../i18n/en'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'

const CHOICES: api.Delivery[] = ['immediately', 'daily_digest', 'off']

export function notificationSettingsPage(user: api.User, navigate: Navigate): Page {
  const groups = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('prefs.loading')))
  const status = h('p', { role: 'status', 'data-testid': 'prefs-status' })
  const save = h('button.primary', { type: 'submit' }, t('prefs.save'))
  let current: api.NotificationPreferences | null = null

  function show(prefs: api.NotificationPreferences): void {
    current = prefs
    groups.removeAttribute('aria-busy')
    fill(
      groups,
      prefs.available.map((category) => {
        const key = `inbox.category.${category.name}`
        const label = key in en ? t(key as MessageKey) : category.label
        return h(
          'fieldset.card',
          { 'data-category': category.name },
          h('legend', null, label),
          CHOICES.map((choice) => {
            const id = `pref-${category.name}-${choice}`
            return h(
              'div.row',
              null,
              h('input', {
                type: 'radio',
                id,
                name: `pref-${category.name}`,
                value: choice,
                checked: prefs.categories[category.name] === choice,
              }),
              h('label', { for: id }, t(`prefs.${choice}` as MessageKey)),
            )
          }),
        )
      }),
    )
  }

  const form = h(
    'form.stack',
    {
      onsubmit: async (event: Event) => {
        event.preventDefault()
        if (!current) return
        const changes: Record<string, api.Delivery> = {}
        for (const category of current.available) {
          const picked = form.querySelector<HTMLInputElement>(`input[name="pref-${category.name}"]:checked`)
          if (picked) changes[category.name] = picked.value as api.Delivery
        }
        save.disabled = true
        status.textContent = ''
        try {
          show(await api.notifications.setPreferences(changes))
          status.textContent = t('prefs.saved')
        } catch (error) {
          status.textContent = error instanceof api.ApiError ? error.readable : String(error)
        } finally {
          save.disabled = false
        }
      },
    },
    groups,
    status,
    save,
  )
  void api.notifications.preferences().then(show, (error: unknown) => {
    fill(groups, h('p', { role: 'alert' }, error instanceof api.ApiError ? error.readable : String(error)))
  })
  return {
    title: t('prefs.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.narrow',
        null,
        h('h1', null, t('prefs.heading')),
        h('p.muted', null, t('prefs.intro')),
        form,
        h('p', null, h('a', { href: '/notifications', 'data-link': '' }, t('prefs.back'))),
      ),
    ),
  }
}
