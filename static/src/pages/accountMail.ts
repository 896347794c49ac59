// The pages behind account e-mails: asking for a password reset link, choosing a new
// password with it, and confirming an e-mail address.

import * as api from '../api'
import { h } from '../dom'
import { t } from '../i18n'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'

function tokenParam(): string {
  return new URLSearchParams(location.search).get('token') ?? ''
}

function readable(error: unknown): string {
  if (!(error instanceof api.ApiError)) return t('auth.unreachable')
  // A refused link: the server's sentence says what happened; field errors say the rest.
  if (error.fields.some((f) => f.field === 'body.token')) return error.detail
  return error.readable
}

function shell(title: string, navigate: Navigate, ...content: HTMLElement[]): Page {
  return { title, el: h('div.shell', null, topbar(null, navigate), h('main#main.page.narrow', null, ...content)) }
}

export function forgotPage(navigate: Navigate): Page {
  const email = h('input', { id: 'forgot-email', type: 'email', autocomplete: 'email', required: true, autofocus: true, maxlength: 320 })
  const status = h('p', { role: 'status', 'data-testid': 'forgot-status' })
  const submit = h('button.primary', { type: 'submit' }, t('forgot.submit'))
  const form = h(
    'form.card.stack',
    {
      'aria-labelledby': 'forgot-title',
      onsubmit: async (event: Event) => {
        event.preventDefault()
        submit.disabled = true
        status.textContent = ''
        try {
          await api.accountMail.requestReset(email.value.trim())
          status.textContent = t('forgot.sent')
        } catch (error) {
          status.textContent = readable(error)
        } finally {
          submit.disabled = false
        }
      },
    },
    h('h1#forgot-title', null, t('forgot.heading')),
    h('p.muted', null, t('forgot.intro')),
    h('div.field', null, h('label', { for: 'forgot-email' }, t('auth.email')), email),
    status,
    submit,
    h('p', null, h('a', { href: '/login', 'data-link': '' }, t('auth.toLogin'))),
  )
  return shell(t('forgot.title'), navigate, form)
}

export function resetPage(navigate: Navigate): Page {
  const token = tokenParam()
  if (!token) {
    return shell(
      t('reset.title'),
      navigate,
      h('h1', null, t('reset.heading')),
      h('p', { role: 'alert' }, t('reset.missing')),
      h('p', null, h('a', { href: '/forgot-password', 'data-link': '' }, t('reset.again'))),
    )
  }
  // The token leaves the address bar (and so the history and any shared screen).
  history.replaceState(null, '', '/reset-password')
  const password = h('input', {
    id: 'reset-password',
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: 8,
    autofocus: true,
    'aria-describedby': 'reset-hint',
  })
  const status = h('p', { role: 'status', 'data-testid': 'reset-status' })
  const again = h('p', { hidden: true }, h('a', { href: '/forgot-password', 'data-link': '' }, t('reset.again')))
  const submit = h('button.primary', { type: 'submit' }, t('reset.submit'))
  const form = h(
    'form.card.stack',
    {
      'aria-labelledby': 'reset-title',
      onsubmit: async (event: Event) => {
        event.preventDefault()
        submit.disabled = true
        status.textContent = ''
        try {
          await api.accountMail.reset(token, password.value)
          await api.logout()
          status.textContent = t('reset.done')
          form.querySelector('.field')?.remove()
          submit.remove()
          form.appendChild(h('p', null, h('a', { href: '/login', 'data-link': '' }, t('auth.toLogin'))))
        } catch (error) {
          status.textContent = readable(error)
          again.hidden = false
          submit.disabled = false
        }
      },
    },
    h('h1#reset-title', null, t('reset.heading')),
    h(
      'div.field',
      null,
      h('label', { for: 'reset-password' }, t('reset.password')),
      password,
      h('small.muted', { id: 'reset-hint' }, t('auth.passwordHint')),
    ),
    status,
    submit,
    again,
  )
  return shell(t('reset.title'), navigate, form)
}

export function verifyPage(navigate: Navigate): Page {
  const token = tokenParam()
  if (token) history.replaceState(null, '', '/verify-email')
  const status = h('p', { role: 'status', 'data-testid': 'verify-status' }, t('verify.working'))
  const next = h('p', { hidden: true }, h('a', { href: '/', 'data-link': '' }, t('verify.continue')))
  const confirm = async (): Promise<void> => {
    if (!token) {
      status.textContent = t('verify.failed')
      next.hidden = false
      return
    }
    try {
      const done = await api.accountMail.verify(token)
      status.textContent = t('verify.done', { email: done.email })
    } catch (error) {
      status.textContent = error instanceof api.ApiError && error.status === 422 ? t('verify.failed') : readable(error)
    }
    next.hidden = false
  }
  void confirm()
  return shell(t('verify.title'), navigate, h('h1', null, t('verify.heading')), status, next)
}
