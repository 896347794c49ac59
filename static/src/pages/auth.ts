// Sign up and log in.

import * as api from '../api'
import { h } from '../dom'
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
  const submit = h('button.primary', { type: 'submit' }, signup ? 'Create account' : 'Log in')
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
                ? 'Wrong email or password.'
                : failure.readable
              : 'Could not reach the server. Check your connection and try again.'
          error.hidden = false
        } finally {
          submit.disabled = false
        }
      },
    },
    h('h1#auth-title', null, signup ? 'Create your account' : 'Log in to liveclass'),
    signup ? h('div.field', null, h('label', { for: 'auth-name' }, 'Your name'), name) : null,
    h('div.field', null, h('label', { for: 'auth-email' }, 'Email'), email),
    h(
      'div.field',
      null,
      h('label', { for: 'auth-password' }, 'Password'),
      password,
      signup ? h('small.muted', null, 'At least 8 characters.') : null,
    ),
    error,
    submit,
    h(
      'p.muted',
      null,
      signup ? 'Already have an account? ' : 'New here? ',
      h(
        'a',
        { href: `${signup ? '/login' : '/signup'}${location.search}`, 'data-link': '' },
        signup ? 'Log in' : 'Create an account',
      ),
    ),
  )
  return {
    title: signup ? 'Sign up' : 'Log in',
    el: h('div.shell', null, topbar(null, navigate), h('main#main.page.narrow', null, form)),
  }
}
