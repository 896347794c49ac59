// The payments REST API as the pages use it: the catalogue, orders and checkout (with an
// Idempotency-Key), receipts, and the finance staff's orders, refunds and coupons. Money is
// integer minor units with an ISO currency, shown in the viewer's locale.

import { ApiError, type User, request } from '../api'
import { formatLocale } from '../i18n'

export interface Price {
  currency: string
  unit_amount: number
}

export interface Product {
  id: string
  kind: 'course' | 'workshop' | 'plan'
  name: string
  target_id: string | null
  period: string | null
  features: string[]
  active: boolean
  prices: Price[]
}

export type OrderStatus = 'pending' | 'paid' | 'fulfilled' | 'partially_refunded' | 'refunded' | 'failed' | 'expired'
export const ORDER_STATUSES: OrderStatus[] = ['pending', 'paid', 'fulfilled', 'partially_refunded', 'refunded', 'failed', 'expired']

export interface Order {
  id: string
  product_id: string
  product_name: string
  currency: string
  subtotal: number
  discount: number
  total: number
  refunded_amount: number
  status: OrderStatus
  provider: string | null
  checkout_url: string | null
  expires_at: string | null
  created_at: string
  paid_at: string | null
  fulfilled_at: string | null
  revoked_at: string | null
  flag: string | null
}

export interface FinanceOrder extends Order {
  user_id: string | null
  buyer: string
  payment_ref: string | null
  session_id?: string | null
}

/** A provider webhook as we stored it (the raw body stays on the server). */
export interface PaymentEvent {
  id: number
  provider: string
  event_id: string
  type: string
  raw_type: string
  order_id: string | null
  flag: string | null
  outcome: string | null
  received_at: string
}

export interface ProductCreate {
  kind: Product['kind']
  name: string
  target_id?: string
  period?: 'month' | 'year'
  features?: string[]
  prices: Price[]
}

export interface ReconcileRun {
  id: number
  provider: string
  trigger: string
  window_start: string
  window_end: string
  status: string
  orders_checked: number
  provider_payments: number
  differences: number
  error: string | null
  started_at: string
  finished_at: string | null
}

export interface ReconcileDifference {
  id: number
  kind: string
  order_id: string | null
  session_id: string | null
  payment_ref: string | null
  currency: string | null
  ours_amount: number | null
  theirs_amount: number | null
}

export interface Refund {
  id: string
  order_id: string
  amount: number
  currency: string
  status: string
  reason: string | null
  refund_ref?: string | null
  created_at: string
}

export interface Receipt {
  order: Order
  buyer_name: string
  buyer_email: string | null
  seller: string
  refunds: Refund[]
}

export interface Coupon {
  id: string
  code: string
  percent_off: number | null
  amount_off: number | null
  currency: string | null
  max_redemptions: number | null
  per_user_limit: number
  expires_at: string | null
  product_ids: string[]
  user_id: string | null
  redemptions: number
  active: boolean
}

export interface CouponCreate {
  code: string
  percent_off?: number
  amount_off?: number
  currency?: string
  max_redemptions?: number
  expires_at?: string
}

export interface Page<T> {
  items: T[]
  next: string | null
}

/** A fresh key for one intent to pay or refund (a repeated click reuses it). */
export function newKey(): string {
  return crypto.randomUUID()
}

function query(params: Record<string, string | null | undefined>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value)
  const text = search.toString()
  return text ? `?${text}` : ''
}

export const payments = {
  /** The active product selling a course or workshop, or null (none, or no payments here). */
  forTarget: async (kind: 'course' | 'workshop', targetId: string): Promise<Product | null> => {
    try {
      const page = await request<Page<Product>>('GET', `/api/v1/payments/products${query({ kind, target_id: targetId })}`)
      return page.items.find((p) => p.prices.length > 0) ?? null
    } catch (error) {
      if (error instanceof ApiError && (error.status === 404 || error.status === 403)) return null
      throw error
    }
  },
  order: (productId: string, currency: string, coupon: string | null, key: string) =>
    request<Order>('POST', '/api/v1/payments/orders', {
      json: { product_id: productId, currency, coupon },
      headers: { 'Idempotency-Key': key },
    }),
  mine: (cursor: string | null) => request<Page<Order>>('GET', `/api/v1/payments/orders${query({ cursor, limit: '50' })}`),
  get: (id: string) => request<Order>('GET', `/api/v1/payments/orders/${id}`),
  receipt: (id: string) => request<Receipt>('GET', `/api/v1/payments/orders/${id}/receipt`),
  // finance staff
  all: (status: string | null, cursor: string | null) =>
    request<Page<FinanceOrder>>('GET', `/api/v1/payments/finance/orders${query({ status, cursor, limit: '50' })}`),
  refunds: (id: string) => request<Refund[]>('GET', `/api/v1/payments/orders/${id}/refunds`),
  refund: (id: string, amount: number | null, reason: string | null, key: string) =>
    request<Refund>('POST', `/api/v1/payments/orders/${id}/refunds`, { json: { amount, reason }, headers: { 'Idempotency-Key': key } }),
  coupons: (cursor: string | null) => request<Page<Coupon>>('GET', `/api/v1/payments/coupons${query({ cursor, limit: '50' })}`),
  createCoupon: (body: CouponCreate) => request<Coupon>('POST', '/api/v1/payments/coupons', { json: body }),
  setCouponActive: (id: string, active: boolean) => request<Coupon>('PATCH', `/api/v1/payments/coupons/${id}`, { json: { active } }),
  financeOrder: (id: string) => request<FinanceOrder>('GET', `/api/v1/payments/finance/orders/${id}`),
  events: (orderId: string, cursor: string | null) =>
    request<Page<PaymentEvent>>('GET', `/api/v1/payments/events${query({ order_id: orderId, cursor, limit: '200' })}`),
  products: (cursor: string | null) => request<Page<Product>>('GET', `/api/v1/payments/finance/products${query({ cursor, limit: '200' })}`),
  createProduct: (body: ProductCreate) => request<Product>('POST', '/api/v1/payments/products', { json: body }),
  patchProduct: (id: string, body: { name?: string; active?: boolean; features?: string[] }) =>
    request<Product>('PATCH', `/api/v1/payments/products/${id}`, { json: body }),
  setPrice: (id: string, price: Price) => request<Price>('PUT', `/api/v1/payments/products/${id}/prices`, { json: price }),
  runs: (cursor: string | null) => request<Page<ReconcileRun>>('GET', `/api/v1/payments/reconciliation/runs${query({ cursor, limit: '50' })}`),
  startRun: (since: string, until: string) => request<ReconcileRun>('POST', '/api/v1/payments/reconciliation/runs', { json: { since, until } }),
  differences: (run: number, cursor: string | null) =>
    request<Page<ReconcileDifference>>('GET', `/api/v1/payments/reconciliation/runs/${run}/differences${query({ cursor, limit: '200' })}`),
}

/** Whether someone may use the finance pages (the finance role, or an admin). */
export function isFinance(user: User): boolean {
  const role: string = user.role
  return role === 'finance' || role === 'admin'
}

/** Minor units as money in the viewer's locale (the currency's own number of decimals). */
export function money(amount: number, currency: string): string {
  const format = new Intl.NumberFormat(formatLocale(), { style: 'currency', currency })
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2
  return format.format(amount / 10 ** digits)
}

/** Major units typed by a person (e.g. "12.50") as minor units, or null if not a number. */
export function toMinor(text: string, currency: string): number | null {
  const value = Number(text.trim().replace(',', '.'))
  if (!text.trim() || !Number.isFinite(value) || value <= 0) return null
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2
  return Math.round(value * 10 ** digits)
}

/** Whether an order is settled one way or the other (no more waiting). */
export function settled(order: Order): boolean {
  return order.status !== 'pending' && order.status !== 'paid'
}
