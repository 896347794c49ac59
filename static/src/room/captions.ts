// Captions in the room: the line being spoken under the speaker's tile (or, when the tile
// is too small or the speaker has none, in a bar right under the tiles, naming them), the transcript in the Captions panel, a per-viewer
// switch and text size (kept in this browser), the captioner's input box, and for hosts
// the automatic-captions switch and who may caption. Final lines are announced once
// through one polite live region; partials (rewritten as words arrive) never are.

import { fill, h, readPref, writePref } from '../dom'
import { formatTime, t } from '../i18n'
import { type RoomContext, run } from './context'
import type { CaptionAutoSwitchedEvent, CaptionCaptionerEvent, CaptionLineEntry, CaptionLinedEvent, CaptionPartialEvent, Welcome } from './protocol.gen'

type CaptionSize = 's' | 'm' | 'l' | 'xl'
const SIZES: CaptionSize[] = ['s', 'm', 'l', 'xl']
const SHOW_KEY = 'liveclass.captions.show'
const SIZE_KEY = 'liveclass.captions.size'
const PARTIAL_EVERY_MS = 400
const SHOWN_FOR_MS = 6000
const KEPT_LINES = 200
const MIN_TILE_HEIGHT = 140

/** The caption size chosen in this browser (Medium when none or storage is off). */
function storedSize(): CaptionSize {
  const stored = readPref(SIZE_KEY)
  return (SIZES as (string | null)[]).includes(stored) ? (stored as CaptionSize) : 'm'
}

/** A caption line as read or shown in the bar: "Speaker: text", or the text alone. */
function captionLine(speaker: string, text: string): string {
  return speaker ? t('captions.line', { speaker, text }) : text
}

interface Current {
  speakerId: string | null
  speaker: string
  text: string
  timer: number
}

export type CaptionEvent = CaptionLinedEvent | CaptionCaptionerEvent | CaptionAutoSwitchedEvent

export class CaptionsPanel {
  readonly el: HTMLElement
  /** The bar under the tiles: lines of speakers without a tile, and the live region. */
  readonly bar: HTMLElement
  private readonly barLines = h('div.caption-bar-lines', { 'aria-hidden': 'true' })
  private readonly announcer = h('div.sr-only', { 'aria-live': 'polite', 'aria-atomic': 'true', 'data-testid': 'caption-announcer' })
  private readonly list = h('ol.caption-list', { 'aria-label': t('captions.transcript'), 'data-testid': 'caption-list' })
  private readonly hostBox = h('div.stack.caption-host')
  private readonly inputBox = h('div.stack.caption-input')
  private readonly input: HTMLInputElement
  private readonly speakerSelect: HTMLSelectElement
  private readonly showBox: HTMLInputElement
  private readonly sizeSelect: HTMLSelectElement
  private lines: CaptionLineEntry[] = []
  private captioners = new Set<string>()
  private auto = false
  private hostShown = '' // what the host's controls show now (see renderControls)
  private current = new Map<string, Current>() // by utterance
  private show = readPref(SHOW_KEY) !== 'off'
  private size: CaptionSize = storedSize()
  private utterance = ''
  private partialTimer = 0
  private lastPartial = 0

  constructor(
    private readonly ctx: RoomContext,
    private readonly tiles: HTMLElement,
  ) {
    this.showBox = h('input', { type: 'checkbox', id: 'captions-show', checked: this.show, onchange: () => this.setShow(this.showBox.checked) })
    this.sizeSelect = h(
      'select',
      { id: 'captions-size', onchange: () => this.setSize(this.sizeSelect.value as CaptionSize) },
      SIZES.map((size) => h('option', { value: size, selected: size === this.size }, t(`captions.size.${size}`))),
    )
    this.input = h('input', {
      id: 'captions-input',
      type: 'text',
      maxLength: 500,
      autocomplete: 'off',
      'data-testid': 'caption-input',
      oninput: () => this.typed(),
      onkeydown: (event: KeyboardEvent) => {
        if (event.key === 'Enter') {
          event.preventDefault()
          void this.sendLine()
        }
      },
    })
    this.speakerSelect = h('select', { id: 'captions-speaker' })
    this.bar = h('div.caption-bar', { role: 'region', 'aria-label': t('captions.bar'), 'data-testid': 'caption-bar' }, this.barLines, this.announcer)
    this.el = h(
      'section.captions-panel.stack',
      { 'aria-labelledby': 'captions-heading' },
      h('h2#captions-heading', null, t('captions.heading')),
      h(
        'div.row.wrap',
        null,
        h('label.row', { for: 'captions-show' }, this.showBox, t('captions.show')),
        h('label', { for: 'captions-size' }, t('captions.size')),
        this.sizeSelect,
      ),
      this.inputBox,
      this.hostBox,
      h('h3', null, t('captions.transcript')),
      this.list,
    )
    this.applyPrefs()
  }

  /** A (re)join: captioners, the switch and the recent lines from the snapshot. */
  welcome(message: Welcome): void {
    const captions = message.snapshot?.captions
    if (!captions) return
    this.captioners = new Set(captions.captioners)
    this.auto = captions.auto
    this.lines = [...captions.lines]
    this.current.clear()
    this.render()
  }

  onEvent(event: CaptionEvent): void {
    if (event.type === 'caption.line') {
      this.addLine(event.line)
    } else if (event.type === 'caption.captioner') {
      if (event.on) this.captioners.add(event.user_id)
      else this.captioners.delete(event.user_id)
      this.renderControls()
    } else {
      this.auto = event.on
      this.renderControls()
    }
  }

  onPartial(event: CaptionPartialEvent): void {
    this.showCurrent(event.utterance, event.speaker_id ?? null, event.speaker_name, event.text)
  }

  /** Participants or roles changed (or the tiles were redrawn): controls and tiles follow. */
  refresh(): void {
    this.renderControls()
    this.renderCurrent()
  }

  private render(): void {
    fill(this.list, this.lines.length ? this.lines.map((line) => this.item(line)) : h('li.muted', null, t('captions.empty')))
    this.refresh()
  }

  // ---------------------------------------------------------------- lines

  private addLine(line: CaptionLineEntry): void {
    if (this.lines.some((l) => l.id === line.id)) return
    this.lines.push(line)
    if (this.lines.length > KEPT_LINES) this.lines.shift()
    if (this.lines.length === 1) fill(this.list)
    this.list.appendChild(this.item(line))
    while (this.list.children.length > KEPT_LINES) this.list.firstElementChild?.remove()
    this.showCurrent(line.utterance, line.speaker_id ?? null, line.speaker_name, line.text)
    if (this.show) this.announcer.textContent = captionLine(line.speaker_name, line.text)
  }

  private item(line: CaptionLineEntry): HTMLElement {
    const time = formatTime(line.end, { seconds: true })
    return h(
      'li.caption-line',
      { 'data-source': line.source },
      h('time.muted', { datetime: line.end }, time),
      ' ',
      line.speaker_name ? h('strong', null, `${line.speaker_name}: `) : null,
      line.text,
    )
  }

  private showCurrent(utterance: string, speakerId: string | null, speaker: string, text: string): void {
    const found = this.current.get(utterance)
    if (found) window.clearTimeout(found.timer)
    if (!text) {
      this.current.delete(utterance)
    } else {
      const timer = window.setTimeout(() => {
        this.current.delete(utterance)
        this.renderCurrent()
      }, SHOWN_FOR_MS)
      // One caption per speaker on screen: a new utterance replaces the speaker's last one.
      for (const [key, other] of this.current) {
        if (key !== utterance && other.speakerId === speakerId && other.speaker === speaker) {
          window.clearTimeout(other.timer)
          this.current.delete(key)
        }
      }
      this.current.set(utterance, { speakerId, speaker, text, timer })
    }
    this.renderCurrent()
  }

  private renderCurrent(): void {
    for (const old of this.tiles.querySelectorAll('.tile-caption')) old.remove()
    const inBar: HTMLElement[] = []
    for (const item of this.current.values()) {
      const tile = item.speakerId ? this.tiles.querySelector<HTMLElement>(`.tile[data-user-id="${CSS.escape(item.speakerId)}"]:not(.screen-tile)`) : null
      // Small tiles (the strip, phones) cannot hold a readable line: the bar below them does.
      if (tile && tile.offsetHeight >= MIN_TILE_HEIGHT) tile.appendChild(h('div.tile-caption', { 'aria-hidden': 'true', 'data-testid': 'tile-caption' }, item.text))
      else inBar.push(h('p.caption-bar-line', null, captionLine(item.speaker, item.text)))
    }
    fill(this.barLines, inBar)
  }

  // ---------------------------------------------------------------- preferences

  private setShow(on: boolean): void {
    this.show = on
    writePref(SHOW_KEY, on ? 'on' : 'off')
    this.applyPrefs()
  }

  private setSize(size: CaptionSize): void {
    this.size = size
    writePref(SIZE_KEY, size)
    this.applyPrefs()
  }

  private applyPrefs(): void {
    for (const el of [this.tiles, this.bar, this.list]) {
      el.classList.toggle('captions-hidden', !this.show)
      for (const size of SIZES) el.classList.toggle(`caption-size-${size}`, size === this.size)
    }
    if (!this.show) this.announcer.textContent = ''
  }

  // ---------------------------------------------------------------- captioning

  private get canCaption(): boolean {
    const me = this.ctx.model.me.user_id
    return this.ctx.model.amHost || this.captioners.has(me)
  }

  private typed(): void {
    if (!this.utterance) this.utterance = `u${Date.now().toString(36)}`
    window.clearTimeout(this.partialTimer)
    const wait = Math.max(0, this.lastPartial + PARTIAL_EVERY_MS - Date.now())
    this.partialTimer = window.setTimeout(() => this.sendPartial(), wait)
  }

  private sendPartial(): void {
    if (!this.utterance) return
    this.lastPartial = Date.now()
    this.ctx.conn.cast({ type: 'caption.send', utterance: this.utterance, text: this.input.value.slice(0, 500), ...this.speaker() })
  }

  private async sendLine(): Promise<void> {
    const text = this.input.value.trim()
    const utterance = this.utterance || `u${Date.now().toString(36)}`
    window.clearTimeout(this.partialTimer)
    this.utterance = ''
    if (!text) return
    this.input.value = ''
    const sent = await run(this.ctx, { type: 'caption.send', utterance, text, final: true, ...this.speaker() })
    if (!sent) this.input.value = text
  }

  private speaker(): { speaker?: string } {
    return this.speakerSelect.value ? { speaker: this.speakerSelect.value } : {}
  }

  // ---------------------------------------------------------------- controls

  private renderControls(): void {
    const model = this.ctx.model
    const people = [...model.participants.values()]
    if (this.canCaption) {
      const chosen = this.speakerSelect.value
      fill(
        this.speakerSelect,
        h('option', { value: '' }, t('captions.nobody')),
        people.map((p) => h('option', { value: p.user_id, selected: p.user_id === chosen }, p.name)),
      )
      if (!this.inputBox.childElementCount) {
        fill(
          this.inputBox,
          h('p.muted', null, t('captions.youCaption')),
          h('label', { for: 'captions-speaker' }, t('captions.speaker')),
          this.speakerSelect,
          h('label', { for: 'captions-input' }, t('captions.input')),
          this.input,
        )
      }
    } else {
      fill(this.inputBox)
    }
    if (!model.amHost) {
      this.hostShown = ''
      fill(this.hostBox)
      return
    }
    const others = people.filter((p) => !this.captioners.has(p.user_id) && p.user_id !== model.me.user_id)
    // Redrawn only when what it shows changed: a redraw on every presence change took the
    // host's choice in the list (and keyboard focus) away while they were making it.
    const shown = JSON.stringify([this.auto, [...this.captioners].map((id) => model.name(id)), others.map((p) => [p.user_id, p.name])])
    if (shown === this.hostShown) return
    this.hostShown = shown
    const chosen = this.hostBox.querySelector<HTMLSelectElement>('#captioner-pick')?.value
    const pick = h(
      'select',
      { id: 'captioner-pick' },
      others.map((p) => h('option', { value: p.user_id, selected: p.user_id === chosen }, p.name)),
    )
    fill(
      this.hostBox,
      h('h3', null, t('captions.auto')),
      h(
        'p.row.wrap',
        null,
        h('span', { 'data-testid': 'auto-captions-state' }, this.auto ? t('captions.auto.on') : t('captions.auto.off')),
        h(
          'button.small',
          { type: 'button', 'aria-pressed': String(this.auto), 'data-testid': 'auto-captions', onclick: () => void run(this.ctx, { type: 'caption.auto', on: !this.auto }) },
          this.auto ? t('captions.turnOff') : t('captions.turnOn'),
        ),
      ),
      h('h3', null, t('captions.captioners')),
      this.captioners.size
        ? h(
            'ul.caption-captioners',
            null,
            [...this.captioners].map((id) =>
              h(
                'li.row',
                null,
                h('span.grow', null, model.name(id)),
                h('button.small', { type: 'button', 'aria-label': t('captions.remove.label', { name: model.name(id) }), onclick: () => void run(this.ctx, { type: 'caption.assign', user_id: id, on: false }) }, t('captions.remove')),
              ),
            ),
          )
        : h('p.muted', null, t('captions.noCaptioners')),
      others.length
        ? h(
            'p.row.wrap',
            null,
            h('label', { for: 'captioner-pick' }, t('captions.choosePerson')),
            pick,
            h('button.small', { type: 'button', 'data-testid': 'make-captioner', onclick: () => pick.value && void run(this.ctx, { type: 'caption.assign', user_id: pick.value, on: true }) }, t('captions.makeCaptioner')),
          )
        : null,
    )
  }
}
