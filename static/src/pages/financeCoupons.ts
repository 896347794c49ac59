// Finance: coupons (/finance/coupons): the list with redemptions, create (a percentage or
// an amount in a currency, a limit, an expiry) and disable / enable.

import type * as api from '../api'
import { announce, fill, h } from '../dom'
import { formatDateTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { financeNav, notFinance } from './finance'
import { type Coupon, type CouponCreate, money, payments, toMinor } from './payApi'
import { topbar } from './shell'
import { readable } from './workshopApi'

function discount(c: Coupon): string {
  if (c.percent_off !== null) return `${c.percent_off} %`
  return c.amount_off !== null && c.currency ? money(c.amount_off, c.currency) : ''
}

export function financeCouponsPage(user: api.User, navigate: Navigate): Page {
  const refused = notFinance(user, navigate)
  if (refused) return refused
  const list = h('div.stack', { 'aria-busy': 'true', style: 'min-width: 0' })
  const problem = h('div', { role: 'alert', 'data-testid': 'coupon-problem' })
  const code = h('input#coupon-code', { type: 'text', required: true, maxlength: 40, pattern: '[A-Za-z0-9_-]{3,40}', autocomplete: 'off' })
  const kind = h('select#coupon-kind', null, h('option', { value: 'percent' }, t('coupons.percent')), h('option', { value: 'amount' }, t('coupons.amount')))
  const value = h('input#coupon-value', { type: 'text', inputmode: 'decimal', required: true })
  const currency = h('input#coupon-currency', { type: 'text', maxlength: 3, autocomplete: 'off', 'aria-describedby': 'coupon-currency-hint' })
  const limit = h('input#coupon-limit', { type: 'number', min: 1, max: 1000000000 })
  const expires = h('input#coupon-expires', { type: 'datetime-local' })

  async function load(): Promise<void> {
    list.setAttribute('aria-busy', 'true')
    try {
      const items: Coupon[] = []
      let cursor: string | null = null
      do {
        const page = await payments.coupons(cursor)
        items.push(...page.items)
        cursor = page.next
      } while (cursor && items.length < 1000)
      fill(
        list,
        items.length
          ? h(
              'div.table-wrap',
              { tabindex: 0, role: 'region', 'aria-label': t('finance.coupons') },
              h(
                'table',
                null,
                h('caption.sr-only', null, t('finance.coupons')),
                h('thead', null, h('tr', null, ...(['coupons.code', 'coupons.discount', 'coupons.used', 'coupons.expires', 'pay.col.status', 'coupons.action'] as const).map((k) => h('th', { scope: 'col' }, t(k))))),
                h(
                  'tbody',
                  null,
                  items.map((c) =>
                    h(
                      'tr',
                      { 'data-coupon': c.code },
                      h('th', { scope: 'row' }, c.code),
                      h('td', null, discount(c)),
                      h('td', null, c.max_redemptions ? `${c.redemptions} / ${c.max_redemptions}` : String(c.redemptions)),
                      h('td', null, c.expires_at ? formatDateTime(c.expires_at) : '—'),
                      h('td', null, c.active ? t('coupons.active') : t('coupons.disabled')),
                      h(
                        'td',
                        null,
                        h(
                          'button',
                          {
                            type: 'button',
                            'aria-label': t(c.active ? 'coupons.disableOne' : 'coupons.enableOne', { code: c.code }),
                            onclick: async () => {
                              problem.replaceChildren()
                              try {
                                await payments.setCouponActive(c.id, !c.active)
                                announce(t(c.active ? 'coupons.disabledDone' : 'coupons.enabledDone', { code: c.code }))
                                await load()
                              } catch (error) {
                                problem.replaceChildren(h('p.error', null, readable(error)))
                              }
                            },
                          },
                          c.active ? t('coupons.disable') : t('coupons.enable'),
                        ),
                      ),
                    ),
                  ),
                ),
              ),
            )
          : h('p', null, t('coupons.none')),
      )
    } catch (error) {
      fill(list, h('p.error', { role: 'alert' }, readable(error)))
    }
    list.setAttribute('aria-busy', 'false')
  }

  async function create(event: Event): Promise<void> {
    event.preventDefault()
    problem.replaceChildren()
    const body: CouponCreate = { code: code.value.trim() }
    if (kind.value === 'percent') body.percent_off = Number(value.value)
    else {
      const cur = currency.value.trim().toUpperCase()
      const minor = /^[A-Z]{3}$/.test(cur) ? toMinor(value.value, cur) : null
      if (minor === null) {
        problem.replaceChildren(h('p.error', null, t('coupons.badAmount')))
        value.focus()
        return
      }
      body.amount_off = minor
      body.currency = cur
    }
    if (limit.value) body.max_redemptions = Number(limit.value)
    if (expires.value) body.expires_at = new Date(expires.value).toISOString()
    try {
      await payments.createCoupon(body)
      announce(t('coupons.created', { code: body.code }))
      code.value = ''
      value.value = ''
      await load()
    } catch (error) {
      problem.replaceChildren(h('p.error', null, readable(error)))
    }
  }

  void load()
  const field = (id: string, label: string, input: HTMLElement): HTMLElement => h('div.field', null, h('label', { for: id }, label), input)
  return {
    title: t('finance.coupons'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack',
        null,
        h('h1', null, t('finance.coupons')),
        financeNav(),
        problem,
        h(
          'form.panel.stack',
          { 'aria-labelledby': 'new-coupon-h', onsubmit: (event: Event) => void create(event) },
          h('h2#new-coupon-h', null, t('coupons.new')),
          field('coupon-code', t('coupons.code'), code),
          field('coupon-kind', t('coupons.kind'), kind),
          field('coupon-value', t('coupons.value'), value),
          field('coupon-currency', t('coupons.currency'), currency),
          h('p#coupon-currency-hint.muted.small', null, t('coupons.currencyHint')),
          field('coupon-limit', t('coupons.limit'), limit),
          field('coupon-expires', t('coupons.expiresField'), expires),
          h('div.row.wrap', null, h('button.primary', { type: 'submit' }, t('coupons.create'))),
        ),
        h('section.stack', { 'aria-labelledby': 'coupons-h' }, h('h2#coupons-h', null, t('coupons.all')), list),
      ),
    ),
  }
}
