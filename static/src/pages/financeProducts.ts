// Finance: products and prices (/finance/products): every product (on sale or not) with its
// prices; create one for a course, a workshop seat or a plan; edit a product's name, features
// and whether it is on sale; set its price in any currency (orders made keep theirs).

import type * as api from '../api'
import { announce, fill, h } from '../dom'
import { t } from '../i18n'
import type { Navigate, Page } from '../main'
import { financeNav, notFinance } from './finance'
import { type Product, type ProductCreate, money, payments, toMinor } from './payApi'
import { topbar } from './shell'
import { readable } from './workshopApi'

const field = (id: string, label: string, input: HTMLElement, hint?: string): HTMLElement =>
  h('div.field', null, h('label', { for: id }, label), input, hint ? h(`p#${id}-hint.muted.small`, null, hint) : null)

function features(text: string): string[] {
  return text
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
}

/** Major units typed for a price (zero allowed: a free product) as minor units, or null. */
function priceOf(text: string, currency: string): number | null {
  if (!/^[A-Z]{3}$/.test(currency)) return null
  if (text.trim() === '0') return 0
  return toMinor(text, currency)
}

export function financeProductsPage(user: api.User, navigate: Navigate): Page {
  const refused = notFinance(user, navigate)
  if (refused) return refused
  const list = h('div.stack', { 'aria-busy': 'true', style: 'min-width: 0' })
  const problem = h('div', { role: 'alert', 'data-testid': 'product-problem' })
  const editor = h('div.stack')
  const kind = h(
    'select#product-kind',
    null,
    (['course', 'workshop', 'plan'] as const).map((k) => h('option', { value: k }, t(`products.kind.${k}`))),
  )
  const name = h('input#product-name', { type: 'text', required: true, maxlength: 200 })
  const target = h('input#product-target', { type: 'text', autocomplete: 'off', 'aria-describedby': 'product-target-hint' })
  const period = h('select#product-period', null, h('option', { value: 'month' }, t('products.month')), h('option', { value: 'year' }, t('products.year')))
  const feats = h('input#product-features', { type: 'text', 'aria-describedby': 'product-features-hint' })
  const currency = h('input#product-currency', { type: 'text', required: true, maxlength: 3, value: 'EUR', autocomplete: 'off', 'aria-describedby': 'product-currency-hint' })
  const price = h('input#product-price', { type: 'text', inputmode: 'decimal', required: true })
  let products: Product[] = []

  function openEditor(p: Product): void {
    const editName = h('input#edit-name', { type: 'text', required: true, maxlength: 200, value: p.name })
    const editFeatures = h('input#edit-features', { type: 'text', value: p.features.join(', '), 'aria-describedby': 'edit-features-hint' })
    const onSale = h('input#edit-active', { type: 'checkbox', checked: p.active })
    const priceCurrency = h('input#price-currency', { type: 'text', required: true, maxlength: 3, autocomplete: 'off', 'aria-describedby': 'price-currency-hint' })
    const priceAmount = h('input#price-amount', { type: 'text', inputmode: 'decimal', required: true })
    const heading = h('h2#edit-h', { tabindex: -1 }, t('products.editing', { name: p.name }))
    fill(
      editor,
      h(
        'section.panel.stack',
        { 'aria-labelledby': 'edit-h', 'data-testid': 'product-editor' },
        heading,
        h(
          'form.stack',
          {
            onsubmit: async (event: Event) => {
              event.preventDefault()
              problem.replaceChildren()
              try {
                const body: { name: string; active: boolean; features?: string[] } = { name: editName.value.trim(), active: onSale.checked }
                if (p.kind === 'plan') body.features = features(editFeatures.value)
                const saved = await payments.patchProduct(p.id, body)
                announce(t('products.saved', { name: saved.name }))
                await load()
                openEditor(saved)
              } catch (error) {
                problem.replaceChildren(h('p.error', null, readable(error)))
              }
            },
          },
          field('edit-name', t('products.name'), editName),
          p.kind === 'plan' ? field('edit-features', t('products.features'), editFeatures, t('products.featuresHint')) : null,
          h('div.row', null, onSale, h('label', { for: 'edit-active' }, t('products.onSale'))),
          h('div.row.wrap', null, h('button.primary', { type: 'submit' }, t('products.save'))),
        ),
        h(
          'form.stack',
          {
            'aria-labelledby': 'price-h',
            onsubmit: async (event: Event) => {
              event.preventDefault()
              problem.replaceChildren()
              const cur = priceCurrency.value.trim().toUpperCase()
              const minor = priceOf(priceAmount.value, cur)
              if (minor === null) {
                problem.replaceChildren(h('p.error', null, t('products.badPrice')))
                priceAmount.focus()
                return
              }
              try {
                await payments.setPrice(p.id, { currency: cur, unit_amount: minor })
                announce(t('products.priceSet', { currency: cur, amount: money(minor, cur) }))
                await load()
                const fresh = products.find((x) => x.id === p.id)
                if (fresh) openEditor(fresh)
              } catch (error) {
                problem.replaceChildren(h('p.error', null, readable(error)))
              }
            },
          },
          h('h3#price-h', null, t('products.setPrice')),
          h('p', null, t('products.prices'), ': ', p.prices.map((x) => money(x.unit_amount, x.currency)).join(', ') || '—'),
          field('price-currency', t('products.currency'), priceCurrency, t('products.currencyHint')),
          field('price-amount', t('products.price'), priceAmount),
          h('div.row.wrap', null, h('button', { type: 'submit' }, t('products.setPriceButton'))),
        ),
        h('div.row.wrap', null, h('button', { type: 'button', onclick: () => fill(editor) }, t('products.close'))),
      ),
    )
    heading.focus()
  }

  async function load(): Promise<void> {
    list.setAttribute('aria-busy', 'true')
    try {
      const items: Product[] = []
      let cursor: string | null = null
      do {
        const page = await payments.products(cursor)
        items.push(...page.items)
        cursor = page.next
      } while (cursor && items.length < 1000)
      products = items
      fill(
        list,
        items.length
          ? h(
              'div.table-wrap',
              { tabindex: 0, role: 'region', 'aria-label': t('products.all') },
              h(
                'table',
                null,
                h('caption.sr-only', null, t('products.all')),
                h('thead', null, h('tr', null, ...(['products.name', 'products.kind', 'products.prices', 'products.state', 'products.action'] as const).map((k) => h('th', { scope: 'col' }, t(k))))),
                h(
                  'tbody',
                  null,
                  items.map((p) =>
                    h(
                      'tr',
                      { 'data-product': p.id },
                      h('th', { scope: 'row' }, p.name),
                      h('td', null, t(`products.kind.${p.kind}`)),
                      h('td', null, p.prices.map((x) => money(x.unit_amount, x.currency)).join(', ') || '—'),
                      h('td', null, p.active ? t('products.active') : t('products.inactive')),
                      h('td', null, h('button', { type: 'button', 'aria-label': t('products.editOne', { name: p.name }), onclick: () => openEditor(p) }, t('products.edit'))),
                    ),
                  ),
                ),
              ),
            )
          : h('p', null, t('products.none')),
      )
    } catch (error) {
      fill(list, h('p.error', { role: 'alert' }, readable(error)))
    }
    list.setAttribute('aria-busy', 'false')
  }

  async function create(event: Event): Promise<void> {
    event.preventDefault()
    problem.replaceChildren()
    const cur = currency.value.trim().toUpperCase()
    const minor = priceOf(price.value, cur)
    if (minor === null) {
      problem.replaceChildren(h('p.error', null, t('products.badPrice')))
      price.focus()
      return
    }
    const chosen = kind.value as Product['kind']
    const body: ProductCreate = { kind: chosen, name: name.value.trim(), prices: [{ currency: cur, unit_amount: minor }] }
    if (chosen === 'plan') {
      body.period = period.value as 'month' | 'year'
      body.features = features(feats.value)
    } else body.target_id = target.value.trim()
    try {
      const made = await payments.createProduct(body)
      announce(t('products.created', { name: made.name }))
      name.value = ''
      target.value = ''
      price.value = ''
      await load()
    } catch (error) {
      problem.replaceChildren(h('p.error', null, readable(error)))
    }
  }

  void load()
  return {
    title: t('finance.products'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack',
        null,
        h('h1', null, t('finance.products')),
        financeNav(),
        problem,
        h(
          'form.panel.stack',
          { 'aria-labelledby': 'new-product-h', onsubmit: (event: Event) => void create(event) },
          h('h2#new-product-h', null, t('products.new')),
          field('product-kind', t('products.kind'), kind),
          field('product-name', t('products.name'), name),
          field('product-target', t('products.target'), target, t('products.targetHint')),
          field('product-period', t('products.period'), period),
          field('product-features', t('products.features'), feats, t('products.featuresHint')),
          field('product-currency', t('products.currency'), currency, t('products.currencyHint')),
          field('product-price', t('products.price'), price),
          h('div.row.wrap', null, h('button.primary', { type: 'submit' }, t('products.create'))),
        ),
        editor,
        h('section.stack', { 'aria-labelledby': 'products-h' }, h('h2#products-h', null, t('products.all')), list),
      ),
    ),
  }
}
