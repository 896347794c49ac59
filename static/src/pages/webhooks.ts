// Admin: outgoing webhooks. Register endpoints with the event types they want (the event
// catalogue's), see the signing secret once with a copy button, send a test, rotate the
// secret, disable or enable, delete, and read an endpoint's delivery log with redelivery.

import * as api from '../api'
import { announce, confirmDialog, fill, h, toast } from '../dom'
import { formatDateTime, formatList, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'

const API = '/api/v1/admin/webhooks'

interface EventType {
  name: string
  aggregate: string
  summary: string
}

interface Endpoint {
  id: number
  url: string
  description: string
  event_types: string[] | null
  enabled: boolean
  disabled_reason: string | null
  failure_streak: number
  last_success_at: string | null
  previous_secret_expires_at: string | null
  secret?: string
}

interface Delivery {
  id: number
  webhook_id: string
  event_type: string
  status: 'pending' | 'delivered' | 'failed'
  attempts: number
  response_status: number | null
  error: string | null
  created_at: string
}

interface DeliveryDetail extends Delivery {
  request_excerpt: string
  request_truncated: boolean
  response_excerpt: string | null
  attempt_log: { attempt: number; at: string; status: number | null; ok: boolean; error: string | null }[]
}

interface PageOf<T> {
  items: T[]
  next: string | null
}

const readable = (error: unknown, fallback: string): string => (error instanceof api.ApiError ? error.readable : fallback)

export function webhooksPage(user: api.User, navigate: Navigate): Page {
  const shell = (...children: (Node | null)[]): HTMLElement =>
    h('div.shell', null, topbar(user, navigate), h('main#main.page.stack', null, h('h1', null, t('webhooks.title')), ...children))
  if (user.role !== 'admin') return { title: t('webhooks.title'), el: shell(h('p', { role: 'alert' }, t('webhooks.forbidden'))) }

  let types: EventType[] = []
  const list = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('webhooks.loading')))
  const secretBox = h('section.card.stack', { hidden: true, 'aria-labelledby': 'secret-title', tabindex: -1 })
  const log = h('section.card.stack', { hidden: true, 'aria-labelledby': 'log-title', tabindex: -1 })

  // ------------------------------------------------------------ the secret, shown once

  function showSecret(endpoint: Endpoint, secret: string, rotatingUntil: string | null): void {
    const field = h('input', { id: 'webhook-secret', readonly: true, value: secret, spellcheck: false, autocomplete: 'off', class: 'mono grow' })
    fill(
      secretBox,
      h('h2#secret-title', null, t('webhooks.secret.heading', { url: endpoint.url })),
      h('p', null, t('webhooks.secret.once')),
      rotatingUntil ? h('p.muted', null, t('webhooks.secret.rotated', { when: formatDateTime(rotatingUntil) })) : null,
      h('div.field', null, h('label', { for: 'webhook-secret' }, t('webhooks.secret.label')), h('div.row.wrap', null, field,
        h('button', {
          type: 'button',
          onclick: async () => {
            try {
              await navigator.clipboard.writeText(secret)
              toast(t('webhooks.secret.copied'), 'success')
              announce(t('webhooks.secret.copied'))
            } catch {
              field.select()
              toast(t('webhooks.secret.copyFailed'), 'error')
            }
          },
        }, t('webhooks.secret.copy')),
      )),
      h('p', null, h('button', { type: 'button', onclick: () => { secretBox.hidden = true; fill(secretBox) } }, t('webhooks.secret.done'))),
    )
    secretBox.hidden = false
    secretBox.focus()
  }

  // ------------------------------------------------------------ adding an endpoint

  const url = h('input', { id: 'webhook-url', type: 'url', required: true, maxlength: 2048, placeholder: 'https://', 'aria-describedby': 'webhook-url-hint' })
  const description = h('input', { id: 'webhook-description', maxlength: 500 })
  const all = h('input', { id: 'webhook-all', type: 'radio', name: 'webhook-scope', value: 'all', checked: true })
  const some = h('input', { id: 'webhook-some', type: 'radio', name: 'webhook-scope', value: 'some' })
  const choices = h('ul.stack.plain', { id: 'webhook-types', hidden: true })
  const addError = h('p.error', { role: 'alert', hidden: true })
  const syncScope = (): void => { choices.hidden = !some.checked }
  all.addEventListener('change', syncScope)
  some.addEventListener('change', syncScope)

  const addForm = h(
    'form.card.stack',
    {
      'aria-labelledby': 'add-title',
      onsubmit: async (event: Event) => {
        event.preventDefault()
        addError.hidden = true
        const chosen = [...choices.querySelectorAll<HTMLInputElement>('input:checked')].map((box) => box.value)
        if (some.checked && !chosen.length) {
          addError.textContent = t('webhooks.add.noneChosen')
          addError.hidden = false
          return
        }
        try {
          const made = await api.request<Endpoint>('POST', API, {
            json: { url: url.value.trim(), description: description.value.trim(), event_types: some.checked ? chosen : null },
          })
          url.value = ''
          description.value = ''
          await load()
          showSecret(made, made.secret ?? '', null)
        } catch (error) {
          addError.textContent = readable(error, t('webhooks.add.failed'))
          addError.hidden = false
          url.focus()
        }
      },
    },
    h('h2#add-title', null, t('webhooks.add.heading')),
    h('div.field', null, h('label', { for: 'webhook-url' }, t('webhooks.add.url')), url, h('p#webhook-url-hint.muted.small', null, t('webhooks.add.urlHint'))),
    h('div.field', null, h('label', { for: 'webhook-description' }, t('webhooks.add.description')), description),
    h(
      'fieldset.stack',
      null,
      h('legend', null, t('webhooks.add.events')),
      h('label.check', { for: 'webhook-all' }, all, t('webhooks.add.all')),
      h('label.check', { for: 'webhook-some' }, some, t('webhooks.add.some')),
      choices,
    ),
    addError,
    h('button.primary', { type: 'submit' }, t('webhooks.add.submit')),
  )

  // ------------------------------------------------------------ the endpoints

  async function act(run: () => Promise<void>, done?: string): Promise<void> {
    try {
      await run()
      if (done) {
        toast(done, 'success')
        announce(done)
      }
    } catch (error) {
      toast(readable(error, t('webhooks.loadFailed')), 'error')
    }
  }

  function button(label: string, endpoint: Endpoint, onclick: () => void, danger = false): HTMLElement {
    const made = h('button', { type: 'button', 'aria-label': t('webhooks.action.forUrl', { action: label, url: endpoint.url }), onclick }, label)
    if (danger) made.classList.add('danger')
    return made
  }

  function card(endpoint: Endpoint): HTMLElement {
    const events = endpoint.event_types ? formatList(endpoint.event_types) : t('webhooks.allEvents')
    return h(
      'li.card.stack',
      { 'data-endpoint-id': String(endpoint.id) },
      h('div.row.wrap.between', null,
        h('h3.break', null, endpoint.url),
        h(`span.badge${endpoint.enabled ? '.info' : '.warn'}`, null, t(endpoint.enabled ? 'webhooks.enabled' : 'webhooks.disabled'))),
      endpoint.description ? h('p', null, endpoint.description) : null,
      h('p.muted.small', null, t('webhooks.events', { list: events })),
      endpoint.disabled_reason ? h('p.small', null, endpoint.disabled_reason) : null,
      endpoint.last_success_at ? h('p.muted.small', null, t('webhooks.lastSuccess', { when: formatDateTime(endpoint.last_success_at) })) : null,
      endpoint.failure_streak ? h('p.muted.small', null, t('webhooks.streak', { count: endpoint.failure_streak })) : null,
      h('div.row.wrap', null,
        button(t('webhooks.action.deliveries'), endpoint, () => void openLog(endpoint)),
        endpoint.enabled ? button(t('webhooks.action.test'), endpoint, () => void act(async () => {
          await api.request('POST', `${API}/${endpoint.id}/test`)
          if (current?.id === endpoint.id) await loadLog(true)
        }, t('webhooks.done.test'))) : null,
        button(t('webhooks.action.rotate'), endpoint, async () => {
          if (!(await confirmDialog(t('webhooks.confirm.rotate', { url: endpoint.url }), t('webhooks.confirm.rotateBody'), t('webhooks.action.rotate')))) return
          await act(async () => {
            const made = await api.request<{ secret: string; previous_secret_expires_at: string | null }>('POST', `${API}/${endpoint.id}/rotate-secret`)
            await load()
            showSecret(endpoint, made.secret, made.previous_secret_expires_at)
          })
        }),
        endpoint.enabled
          ? button(t('webhooks.action.disable'), endpoint, async () => {
              if (!(await confirmDialog(t('webhooks.confirm.disable', { url: endpoint.url }), t('webhooks.confirm.disableBody'), t('webhooks.action.disable'), true))) return
              await act(async () => { await api.request('POST', `${API}/${endpoint.id}/disable`); await load() }, t('webhooks.done.disabled'))
            })
          : button(t('webhooks.action.enable'), endpoint, () => void act(async () => { await api.request('POST', `${API}/${endpoint.id}/enable`); await load() }, t('webhooks.done.enabled'))),
        button(t('webhooks.action.delete'), endpoint, async () => {
          if (!(await confirmDialog(t('webhooks.confirm.delete', { url: endpoint.url }), t('webhooks.confirm.deleteBody'), t('webhooks.action.delete'), true))) return
          await act(async () => {
            await api.request('DELETE', `${API}/${endpoint.id}`)
            if (current?.id === endpoint.id) { current = null; log.hidden = true }
            await load()
          }, t('webhooks.done.deleted'))
        }, true),
      ),
    )
  }

  async function load(): Promise<void> {
    try {
      const endpoints: Endpoint[] = []
      let cursor: string | null = null
      do {
        const query: string = cursor ? `?limit=200&cursor=${encodeURIComponent(cursor)}` : '?limit=200'
        const got: PageOf<Endpoint> = await api.request<PageOf<Endpoint>>('GET', API + query)
        endpoints.push(...got.items)
        cursor = got.next
      } while (cursor)
      list.setAttribute('aria-busy', 'false')
      fill(list, endpoints.length ? h('ul.stack.plain', { 'aria-label': t('webhooks.list.heading') }, endpoints.map(card)) : h('p.muted', null, t('webhooks.list.none')))
    } catch (error) {
      list.setAttribute('aria-busy', 'false')
      fill(list, h('p.error', { role: 'alert' }, readable(error, t('webhooks.loadFailed'))))
    }
  }

  // ------------------------------------------------------------ the delivery log

  let current: Endpoint | null = null
  let next: string | null = null
  const filter = h('select', { id: 'delivery-filter' },
    h('option', { value: '' }, t('webhooks.deliveries.any')),
    (['pending', 'delivered', 'failed'] as const).map((s) => h('option', { value: s }, t(`webhooks.status.${s}`))))
  const rows = h('tbody')
  const more = h('button', { type: 'button', hidden: true, onclick: () => void loadLog(false) }, t('webhooks.deliveries.more'))
  const empty = h('p.muted', { hidden: true }, t('webhooks.deliveries.none'))
  filter.addEventListener('change', () => void loadLog(true))

  function detailRow(detail: DeliveryDetail): HTMLElement {
    const lines = detail.attempt_log.map((line) =>
      h('li', null, t('webhooks.detail.line', {
        attempt: line.attempt,
        when: formatDateTime(line.at),
        result: line.ok ? t('webhooks.detail.ok') : line.error ?? String(line.status ?? t('webhooks.noResponse')),
      })))
    return h('tr.detail', null, h('td', { colspan: 6 }, h('div.stack', null,
      h('p.small', null, `${t('webhooks.detail.id')}: `, h('code', null, detail.webhook_id)),
      h('h4', null, t('webhooks.detail.request'), detail.request_truncated ? ` ${t('webhooks.detail.truncated')}` : ''),
      h('pre.excerpt', { tabindex: 0 }, detail.request_excerpt),
      h('h4', null, t('webhooks.detail.response')),
      detail.error ? h('p.small', null, t('webhooks.detail.error', { error: detail.error })) : null,
      h('pre.excerpt', { tabindex: 0 }, detail.response_excerpt ?? t('webhooks.noResponse')),
      h('h4', null, t('webhooks.detail.attempts')),
      h('ol.small', null, lines))))
  }

  function deliveryRow(delivery: Delivery): HTMLElement {
    const toggle = h('button', { type: 'button', 'aria-expanded': 'false', 'aria-label': t('webhooks.detailsOf', { id: delivery.id }) }, t('webhooks.details'))
    const row = h('tr', { 'data-delivery-id': String(delivery.id) },
      h('td', null, h('code', null, delivery.event_type)),
      h('td', null, h(`span.badge${delivery.status === 'failed' ? '.warn' : delivery.status === 'delivered' ? '.info' : ''}`, null, t(`webhooks.status.${delivery.status}`))),
      h('td', null, String(delivery.attempts)),
      h('td', null, delivery.response_status ? String(delivery.response_status) : delivery.error ?? '—'),
      h('td', null, formatDateTime(delivery.created_at)),
      h('td', null, h('div.row.wrap.tight', null, toggle,
        delivery.status !== 'pending' && current?.enabled
          ? h('button', { type: 'button', 'aria-label': t('webhooks.redeliverOf', { id: delivery.id }), onclick: () => void act(async () => {
              await api.request('POST', `${API}/${current?.id}/deliveries/${delivery.id}/redeliver`)
              await loadLog(true)
            }, t('webhooks.done.redeliver')) }, t('webhooks.redeliver'))
          : null)))
    toggle.addEventListener('click', async () => {
      const open = row.nextElementSibling?.classList.contains('detail')
      if (open) {
        row.nextElementSibling?.remove()
        toggle.setAttribute('aria-expanded', 'false')
        return
      }
      await act(async () => {
        const detail = await api.request<DeliveryDetail>('GET', `${API}/${current?.id}/deliveries/${delivery.id}`)
        row.after(detailRow(detail))
        toggle.setAttribute('aria-expanded', 'true')
      })
    })
    return row
  }

  async function loadLog(fresh: boolean): Promise<void> {
    if (!current) return
    const params = new URLSearchParams({ limit: '20' })
    if (filter.value) params.set('status', filter.value)
    if (!fresh && next) params.set('cursor', next)
    try {
      const got = await api.request<PageOf<Delivery>>('GET', `${API}/${current.id}/deliveries?${params}`)
      if (fresh) fill(rows)
      got.items.forEach((d) => rows.appendChild(deliveryRow(d)))
      next = got.next
      more.hidden = !next
      empty.hidden = rows.childElementCount > 0
    } catch (error) {
      toast(readable(error, t('webhooks.loadFailed')), 'error')
    }
  }

  async function openLog(endpoint: Endpoint): Promise<void> {
    current = endpoint
    next = null
    filter.value = ''
    fill(
      log,
      h('div.row.wrap.between', null,
        h('h2#log-title.break', null, t('webhooks.deliveries.heading', { url: endpoint.url })),
        h('div.row.wrap', null, h('label', { for: 'delivery-filter' }, t('webhooks.deliveries.filter')), filter,
          h('button', { type: 'button', onclick: () => void loadLog(true) }, t('webhooks.deliveries.refresh')))),
      h('div.table-wrap', null, h('table.table', null,
        h('caption', null, t('webhooks.deliveries.caption')),
        h('thead', null, h('tr', null, (['event', 'status', 'attempts', 'response', 'when', 'actions'] as const).map((c) => h('th', { scope: 'col' }, t(`webhooks.col.${c}`))))),
        rows)),
      empty,
      more,
    )
    log.hidden = false
    await loadLog(true)
    log.focus()
  }

  async function start(): Promise<void> {
    try {
      types = await api.request<EventType[]>('GET', `${API}/event-types`)
      fill(choices, types.map((type, i) =>
        h('li', null, h('label.check', { for: `webhook-type-${i}` },
          h('input', { id: `webhook-type-${i}`, type: 'checkbox', value: type.name }),
          h('span', null, h('code', null, type.name), h('span.muted.small', null, ` — ${type.summary}`))))))
    } catch (error) {
      toast(readable(error, t('webhooks.loadFailed')), 'error')
    }
    await load()
  }

  void start()
  return {
    title: t('webhooks.title'),
    el: shell(
      h('p.muted', null, t('webhooks.intro')),
      secretBox,
      addForm,
      h('section.stack', { 'aria-labelledby': 'endpoints-title' }, h('h2#endpoints-title', null, t('webhooks.list.heading')), list),
      log,
    ),
  }
}
