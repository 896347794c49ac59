// The control bar under the class: microphone, camera, screen, hand, emoji reactions and
// "away" (one toolbar: a single Tab stop, arrow keys between its buttons), and the layer
// where everyone's emoji reactions float up.

import { h, Roving } from '../dom'
import { t } from '../i18n'
import { type RoomContext, run } from './context'
import type { MediaClient } from './media'

const EMOJI = ['👍', '👏', '❤️', '😂', '😮', '🎉']

/** A control's content: a decorative icon and its visible (and accessible) text. */
function face(icon: string, text: string): (HTMLElement | string)[] {
  return [h('span.control-icon', { 'aria-hidden': 'true' }, icon), h('span.control-text', null, text)]
}

export class ControlBar {
  readonly el: HTMLElement
  readonly toolbar: HTMLElement
  readonly reactionLayer = h('div.reaction-layer', { 'aria-hidden': 'true' })
  private readonly roving: Roving
  private readonly handButton: HTMLButtonElement
  private readonly micButton: HTMLButtonElement
  private readonly camButton: HTMLButtonElement
  private readonly screenButton: HTMLButtonElement
  private readonly awayButton: HTMLButtonElement

  constructor(
    private readonly ctx: RoomContext,
    private readonly media: MediaClient,
  ) {
    const button = (keys: string | null, title: string, onclick: () => void): HTMLButtonElement =>
      h('button.control', { type: 'button', 'aria-pressed': 'false', 'aria-keyshortcuts': keys ?? undefined, title, onclick })
    // While a device is being asked for its button is aria-disabled, not disabled: it keeps
    // keyboard focus. Once the device answered (the button shows it on), a press stops it.
    const toggle = (source: 'microphone' | 'camera' | 'screen') => () => {
      if (!asking(media, source)) void media.toggle(source)
    }
    this.micButton = button('Alt+M', t('controls.mic.title'), toggle('microphone'))
    this.camButton = button('Alt+V', t('controls.camera.title'), toggle('camera'))
    this.screenButton = button(null, t('controls.screen.title'), toggle('screen'))
    this.handButton = h('button.control', { type: 'button', 'aria-keyshortcuts': 'Alt+H', title: t('controls.hand.title'), onclick: () => void this.toggleHand() })
    this.awayButton = button(null, t('controls.away.title'), () => void this.toggleAway())
    this.awayButton.append(...face('☕', t('controls.away')))
    const reactions = h(
      'div.row.tight.reactions-bar',
      { role: 'group', 'aria-label': t('controls.reactions') },
      EMOJI.map((emoji) =>
        h('button.emoji', { type: 'button', 'aria-label': t('controls.react', { emoji }), onclick: () => ctx.conn.cast({ type: 'reaction.send', emoji }) }, emoji),
      ),
    )
    this.toolbar = h(
      'div.controls-bar',
      { role: 'toolbar', 'aria-label': t('controls.label') },
      this.micButton,
      this.camButton,
      this.screenButton,
      this.handButton,
      reactions,
      this.awayButton,
    )
    this.roving = new Roving(this.toolbar)
    this.el = h('footer#controls.controls', { 'aria-label': t('controls.label') }, this.toolbar)
    this.render()
  }

  /** Move keyboard focus to the control bar (its current button). */
  focus(): void {
    this.roving.sync()
    this.toolbar.querySelector<HTMLElement>('[tabindex="0"]')?.focus()
  }

  /** Buttons from the model and the local media: pressed, labelled, enabled by grants. */
  render(): void {
    const model = this.ctx.model
    const me = model.participants.get(model.me.user_id)
    const raised = model.handPosition(model.me.user_id) > 0
    // The hand button names its action (raise or lower), so it carries no pressed state.
    this.handButton.replaceChildren(...face('✋', t(raised ? 'controls.hand.lower' : 'controls.hand.raise')))
    this.handButton.disabled = !raised && !model.can('raise_hand')
    const media = this.media
    const mic = media.has('microphone')
    this.micButton.setAttribute('aria-pressed', String(mic))
    this.micButton.replaceChildren(...face(mic ? '🎤' : '🔇', t(mic ? 'controls.mic.on' : 'controls.mic.off')))
    this.micButton.disabled = !mic && !model.can('publish_audio')
    this.micButton.setAttribute('aria-disabled', String(asking(media, 'microphone')))
    const cam = media.has('camera')
    this.camButton.setAttribute('aria-pressed', String(cam))
    this.camButton.replaceChildren(...face('📷', t(cam ? 'controls.camera.on' : 'controls.camera.off')))
    this.camButton.disabled = !cam && !model.can('publish_video')
    this.camButton.setAttribute('aria-disabled', String(asking(media, 'camera')))
    const screen = media.has('screen')
    this.screenButton.setAttribute('aria-pressed', String(screen))
    this.screenButton.replaceChildren(...face('🖥', t(screen ? 'controls.screen.stop' : 'controls.screen.share')))
    this.screenButton.hidden = !screen && !model.can('publish_screen')
    this.screenButton.setAttribute('aria-disabled', String(asking(media, 'screen')))
    this.awayButton.setAttribute('aria-pressed', String(me?.away ?? false))
    this.roving.sync()
  }

  async toggleHand(): Promise<void> {
    const model = this.ctx.model
    const raised = model.handPosition(model.me.user_id) > 0
    await run(this.ctx, { type: raised ? 'hand.lower' : 'hand.raise' })
  }

  private async toggleAway(): Promise<void> {
    const me = this.ctx.model.participants.get(this.ctx.model.me.user_id)
    await run(this.ctx, { type: 'status.set', away: !(me?.away ?? false) })
  }

  /** Someone's emoji reaction floats up over the class for a few seconds. */
  floatReaction(userId: string, emoji: string): void {
    const bubble = h('div.float-reaction', { style: `left:${10 + Math.random() * 70}%` }, emoji, h('small', null, this.ctx.model.name(userId)))
    this.reactionLayer.appendChild(bubble)
    window.setTimeout(() => bubble.remove(), 3500)
  }
}

/** A source whose device is being asked for (no track yet): its button waits. */
function asking(media: MediaClient, source: 'microphone' | 'camera' | 'screen'): boolean {
  return media.starting.has(source) && !media.has(source)
}
