// The message catalogue: every interface string of the web app goes through t(), and every
// date, time, number and list through the format* helpers, so a translation is a new
// catalogue file and no code changes.
//
// - Messages live in i18n/en/<area>.ts, one object per area (common, pages, room, ...),
//   merged in i18n/en/index.ts. A key is "<area>.<what>", e.g. "chat.send". A module that
//   adopts the catalogue adds its own area file there (whiteboard.ts, captions.ts, ...).
// - A message is a string with {placeholders}, or plural forms chosen by the ``count``
//   parameter with Intl.PluralRules ({one: '{count} vote', other: '{count} votes'}).
//   Numbers given as parameters are formatted in the user's locale.
// - A translation registers a partial catalogue: registerMessages('fr', {...}). Missing
//   keys fall back to English. The message language follows the user's preference (the
//   ?lang= parameter, then the stored choice, then the browser's languages); dates, times
//   and numbers use the browser's locale and time zone (or the person's own time zone once
//   set with setTimeZone).

import { readPref } from '../prefs'
import { en, type Message } from './en'

export type { Message }
export type MessageKey = keyof typeof en
export type Params = Record<string, string | number>
export type Catalogue = Partial<Record<MessageKey, Message>>

const catalogues = new Map<string, Catalogue>([['en', en]])
let language = 'en'
let timeZone: string | undefined
const STORAGE_KEY = 'liveclass.lang'

/** Add (or extend) the messages of a language, e.g. registerMessages('fr', {...}). */
export function registerMessages(lang: string, messages: Catalogue): void {
  catalogues.set(lang, { ...(catalogues.get(lang) ?? {}), ...messages })
  chooseLanguage()
}

/** The language of the messages shown (a registered one; English when none matches). */
export function messageLanguage(): string {
  return language
}

/** The locale for dates, times and numbers: the browser's first preference. */
export function formatLocale(): string {
  return navigator.languages?.[0] ?? navigator.language ?? 'en'
}

/** Use the person's own IANA time zone (e.g. from their profile) instead of the browser's. */
export function setTimeZone(zone: string | undefined): void {
  timeZone = zone || undefined
}

/** Pick the message language from ?lang=, the stored choice, then the browser's languages. */
export function chooseLanguage(preferred?: string): string {
  const wanted: string[] = []
  if (preferred) wanted.push(preferred)
  const param = new URLSearchParams(location.search).get('lang')
  if (param) wanted.push(param)
  const stored = readPref(STORAGE_KEY) // null when storage is off: the browser's languages decide
  if (stored) wanted.push(stored)
  wanted.push(...(navigator.languages ?? [navigator.language]))
  language = 'en'
  for (const tag of wanted) {
    const base = tag.toLowerCase().split('-')[0]
    const found = catalogues.has(tag) ? tag : catalogues.has(base) ? base : null
    if (found) {
      language = found
      break
    }
  }
  document.documentElement.lang = language
  return language
}

const plurals = new Map<string, Intl.PluralRules>()
function pluralCategory(count: number): string {
  let rules = plurals.get(language)
  if (!rules) plurals.set(language, (rules = new Intl.PluralRules(language)))
  return rules.select(count)
}

/** The message ``key`` in the current language, with ``params`` filled in. */
export function t(key: MessageKey, params: Params = {}): string {
  const message = catalogues.get(language)?.[key] ?? en[key]
  let text: string
  if (typeof message === 'string') text = message
  else {
    const count = Number(params.count ?? 0)
    const forms = message as Record<string, string>
    text = (count === 0 && forms.zero) || forms[pluralCategory(count)] || forms.other
  }
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name]
    if (value === undefined) return whole
    return typeof value === 'number' ? formatNumber(value) : value
  })
}

function date(value: string | number | Date): Date {
  return value instanceof Date ? value : new Date(value)
}

function options(extra: Intl.DateTimeFormatOptions): Intl.DateTimeFormatOptions {
  return timeZone ? { ...extra, timeZone } : extra
}

/** A time of day (hours and minutes, and seconds with ``seconds``) in the user's locale and time zone. */
export function formatTime(value: string | number | Date | null | undefined, { seconds = false } = {}): string {
  if (value === null || value === undefined || value === '') return ''
  const parts: Intl.DateTimeFormatOptions = seconds ? { hour: '2-digit', minute: '2-digit', second: '2-digit' } : { hour: '2-digit', minute: '2-digit' }
  return date(value).toLocaleTimeString(formatLocale(), options(parts))
}

/** A calendar date in the user's locale and time zone. */
export function formatDate(value: string | number | Date): string {
  return date(value).toLocaleDateString(formatLocale(), options({ dateStyle: 'medium' }))
}

/** A date and time in the user's locale and time zone. */
export function formatDateTime(value: string | number | Date): string {
  return date(value).toLocaleString(formatLocale(), options({ dateStyle: 'medium', timeStyle: 'short' }))
}

export function formatNumber(value: number, extra: Intl.NumberFormatOptions = {}): string {
  return value.toLocaleString(formatLocale(), extra)
}

export function formatPercent(fraction: number): string {
  return formatNumber(fraction, { style: 'percent', maximumFractionDigits: 0 })
}

/** A size such as "1.5 MB" (decimal units, as browsers and file managers show them). */
export function formatBytes(bytes: number): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return formatNumber(value, { style: 'unit', unit: units[unit], unitDisplay: 'short', maximumFractionDigits: unit ? 1 : 0 })
}

/** "Ann, Bo and Cy" in the message language. */
export function formatList(items: string[], type: 'conjunction' | 'disjunction' = 'conjunction'): string {
  return new Intl.ListFormat(language, { style: 'long', type }).format(items)
}

/** A length of time such as "1 h 5 min" or "3 min 20 s". */
export function formatDuration(seconds: number): string {
  const unit = (value: number, name: 'hour' | 'minute' | 'second'): string =>
    formatNumber(value, { style: 'unit', unit: name, unitDisplay: 'short' })
  const minutes = Math.floor(seconds / 60)
  if (minutes >= 60) return `${unit(Math.floor(minutes / 60), 'hour')} ${unit(minutes % 60, 'minute')}`
  return `${unit(minutes, 'minute')} ${unit(seconds % 60, 'second')}`
}

/** A countdown such as 4:05 (minutes and seconds). */
export function formatClock(seconds: number): string {
  const left = Math.max(0, Math.round(seconds))
  return `${formatNumber(Math.floor(left / 60))}:${String(left % 60).padStart(2, '0')}`
}

chooseLanguage()
