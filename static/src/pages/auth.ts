// Sign up and log in.

import * as api from '../api'
import { h } from '../dom'
import { t } from '../i18n'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'

function nextPath(): string {
  const next = new URLSearchParams(location.search).get('next') ?? '/'
  return next.startsWith('/') && !next.startsWith('//') ? next : '/'
}

export function authPage(mode: 'login' | 'signup', navigate: Navigate): Page {
  const signup = mode === 'signup'
  const error = h('p.error', { role: 'alert', hidden: true })
  const name = h('input', { id: 'auth-name', name: 'name', autocomplete: 'name', required: true, maxlength: 200 })
  const email = h('input', { id: 'auth-email', name: 'email', type: 'email', autocomplete: 'email', required: true, autofocus: !signup })
  const password = h('input', {
    id: 'auth-password',
    name: 'password',
    type: 'password',
    autocomplete: signup ? 'new-password' : 'current-password',
    required: true,
    minlength: signup ? 8 : 1,
  })
  if (signup) name.autofocus = true
  const submit = h('button.primary', { type: 'submit' }, t(signup ? 'auth.submit.signup' : 'auth.submit.login'))
  const form = h(
    'form.card.stack',
    {
      'aria-labelledby': 'auth-title',
      onsubmit: async (event: Event) => {
        event.preventDefault()
        error.hidden = true
        submit.disabled = true
        try {
          if (signup) await api.register(email.value.trim(), password.value, name.value.trim())
          await api.login(email.value.trim(), password.value)
          navigate(nextPath(), true)
        } catch (failure) {
          error.textContent =
            failure instanceof api.ApiError
              ? failure.status === 401
                ? t('auth.wrong')
                : failure.readable
              : t('auth.unreachable')
          error.hidden = false
        } finally {
          submit.disabled = false
        }
      },
    },
    h('h1#auth-title', null, t(signup ? 'auth.heading.signup' : 'auth.heading.login')),
    signup ? h('div.field', null, h('label', { for: 'auth-name' }, t('auth.name')), name) : null,
    h('div.field', null, h('label', { for: 'auth-email' }, t('auth.email')), email),
    h(
      'div.field',
      null,
      h('label', { for: 'auth-password' }, t('auth.password')),
      password,
      signup ? h('small.muted', null, t('auth.passwordHint')) : null,
    ),
    error,
    submit,
    signup ? null : h('p', null, h('a', { href: '/forgot-password', 'data-link': '' }, t('forgot.link'))),
    h(
      'p.muted',
      null,
      t(signup ? 'auth.haveAccount' : 'auth.newHere'),
      h(
        'a',
        { href: `${signup ? '/login' : '/signup'}${location.search}`, 'data-link': '' },
        t(signup ? 'auth.toLogin' : 'auth.toSignup'),
      ),
    ),
  )
  return {
    title: t(signup ? 'auth.title.signup' : 'auth.title.login'),
    el: h('div.shell', null, topbar(null, navigate), h('main#main.page.narrow', null, form)),
  }
}
