// The control bar under the class: microphone, camera, screen, hand, emoji reactions and
// "away", and the layer where everyone's emoji reactions float up.

import { h } from '../dom'
import { type RoomContext, run } from './context'
import type { MediaClient } from './media'

const EMOJI = ['👍', '👏', '❤️', '😂', '😮', '🎉']

export class ControlBar {
  readonly el: HTMLElement
  readonly reactionLayer = h('div.reaction-layer', { 'aria-hidden': 'true' })
  private readonly handButton: HTMLButtonElement
  private readonly micButton: HTMLButtonElement
  private readonly camButton: HTMLButtonElement
  private readonly screenButton: HTMLButtonElement
  private readonly awayButton: HTMLButtonElement

  constructor(
    private readonly ctx: RoomContext,
    private readonly media: MediaClient,
  ) {
    this.handButton = h('button.control', { type: 'button', 'aria-pressed': 'false', title: 'Raise hand (Alt+H)', onclick: () => void this.toggleHand() }, '✋ Raise hand')
    this.micButton = h('button.control', { type: 'button', 'aria-pressed': 'false', title: 'Microphone (Alt+M)', onclick: () => void media.toggle('microphone') }, '🔇 Mic off')
    this.camButton = h('button.control', { type: 'button', 'aria-pressed': 'false', title: 'Camera', onclick: () => void media.toggle('camera') }, '📷 Camera off')
    this.screenButton = h('button.control', { type: 'button', 'aria-pressed': 'false', title: 'Share your screen', onclick: () => void media.toggle('screen') }, '🖥 Share screen')
    this.awayButton = h('button.control', { type: 'button', 'aria-pressed': 'false', title: 'Let others know you stepped away', onclick: () => void this.toggleAway() }, '☕ Away')
    const reactions = h(
      'div.row.tight.reactions-bar',
      { role: 'group', 'aria-label': 'Send a reaction' },
      EMOJI.map((emoji) =>
        h('button.emoji', { type: 'button', 'aria-label': `React ${emoji}`, onclick: () => ctx.conn.cast({ type: 'reaction.send', emoji }) }, emoji),
      ),
    )
    this.el = h('footer.controls', { 'aria-label': 'My controls' }, this.micButton, this.camButton, this.screenButton, this.handButton, reactions, this.awayButton)
  }

  /** Buttons from the model and the local media: pressed, labelled, enabled by grants. */
  render(): void {
    const model = this.ctx.model
    const me = model.participants.get(model.me.user_id)
    const raised = model.handPosition(model.me.user_id) > 0
    this.handButton.setAttribute('aria-pressed', String(raised))
    this.handButton.textContent = raised ? '✋ Lower hand' : '✋ Raise hand'
    this.handButton.disabled = !raised && !model.can('raise_hand')
    const media = this.media
    const mic = media.has('microphone')
    this.micButton.setAttribute('aria-pressed', String(mic))
    this.micButton.textContent = mic ? '🎤 Mic on' : '🔇 Mic off'
    this.micButton.disabled = media.starting.has('microphone') || (!mic && !model.can('publish_audio'))
    const cam = media.has('camera')
    this.camButton.setAttribute('aria-pressed', String(cam))
    this.camButton.textContent = cam ? '📷 Camera on' : '📷 Camera off'
    this.camButton.disabled = media.starting.has('camera') || (!cam && !model.can('publish_video'))
    const screen = media.has('screen')
    this.screenButton.setAttribute('aria-pressed', String(screen))
    this.screenButton.textContent = screen ? '🖥 Stop sharing' : '🖥 Share screen'
    this.screenButton.hidden = !screen && !model.can('publish_screen')
    this.screenButton.disabled = media.starting.has('screen')
    this.awayButton.setAttribute('aria-pressed', String(me?.away ?? false))
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
