// What a room event does on this person's page beyond the model: devices a host stopped,
// toasts, notices, the chat's unread count, captions, going back from a closed breakout, and
// what screen readers hear (new chat messages unless muted in the chat panel; for hosts
// raised hands, joins and leaves; the person's own hand).

import { announce, toast } from '../dom'
import { formatTime, t } from '../i18n'
import type { Navigate } from '../main'
import { chatAnnounced } from './chat'
import type { Layout } from './layout'
import type { MediaClient } from './media'
import type { Change, RoomModel } from './model'
import { announceSettings, type Notices } from './notices'
import type { RoomEvent } from './protocol.gen'
import type { SidePanels } from './side'

export interface EffectParts {
  model: RoomModel
  media: MediaClient
  notices: Notices
  side: SidePanels
  navigate: Navigate
  layout(): Layout | null
}

export class EventEffects {
  constructor(private readonly parts: EffectParts) {}

  /** Apply ``event`` to the model and act on it; what changed in the model. */
  apply(event: RoomEvent): Change[] {
    const { model, media, notices } = this.parts
    const track = 'track_id' in event ? model.tracks.get(event.track_id) : undefined
    const me = model.me.user_id
    const leaving = event.type === 'presence.disconnected' ? model.participants.get(event.user_id)?.name : undefined
    const arriving = event.type === 'presence.connected' && !model.participants.has(event.user.user_id)
    const changes = model.apply(event)
    this.announce(event, me, arriving, leaving)
    if (changes.includes('me') || changes.includes('room')) media.setGrants(model.grants)
    switch (event.type) {
      case 'media.track_muted':
      case 'media.track_unpublished':
        media.forget(event.track_id)
        if (event.user_id === me && (event.type === 'media.track_muted' || event.reason === 'muted')) {
          const source = 'source' in event ? event.source : track?.source
          if (source && media.has(source)) {
            media.stoppedByHost(source)
            toast(t(source === 'camera' ? 'room.host.stoppedVideo' : source === 'screen' ? 'room.host.stoppedScreen' : 'room.host.mutedYou'))
          }
        }
        break
      case 'chat.message':
        if (event.message.author_id !== me) this.parts.side.messageArrived()
        break
      case 'participant.muted':
        if (event.user_id === me) {
          void media.stop('microphone')
          toast(t('room.host.mutedYou'))
        }
        break
      case 'room.muted_all':
        if (!model.amHost) {
          void media.stop('microphone')
          toast(t('room.host.mutedAll'))
        }
        break
      case 'participant.unmute_requested':
        if (event.user_id === me) notices.askUnmute(() => void media.start('microphone'))
        break
      case 'participant.role':
        if (event.user_id === me) toast(t('room.yourRole', { role: t(`roomRole.label.${event.role}`) }), 'info')
        break
      case 'room.settings':
        announceSettings(model, event.changes)
        break
      case 'lobby.waiting':
        if (model.amHost) toast(t('room.lobby.waiting', { name: event.user.name }), 'info')
        break
      case 'breakout.opened':
        if (model.myBreakout()) toast(t('room.breakouts.open'), 'info')
        break
      case 'room.closing':
        closingToast(event.closes_at)
        break
      case 'breakout.broadcast':
        notices.broadcast(event.name, event.text)
        break
      case 'caption.line':
      case 'caption.captioner':
      case 'caption.auto':
        this.parts.layout()?.captions.onEvent(event)
        break
      case 'breakout.closed':
        if (event.parent && model.room.parent_id) {
          toast(t('room.breakouts.closed'), 'info')
          const parent = model.room.parent_id
          window.setTimeout(() => this.parts.navigate(`/rooms/${parent}`, true), 800)
        }
        break
    }
    return changes
  }

  /** Someone joining a room that is about to close hears when (the others heard it from
   * the ``room.closing`` event itself). */
  joinedClosing(): void {
    const closing = this.parts.model.room.closing
    if (closing && Date.parse(closing.closes_at) > Date.now()) closingToast(closing.closes_at)
  }

  /** What screen readers hear about ``event``, once. */
  private announce(event: RoomEvent, me: string, arriving: boolean, leaving: string | undefined): void {
    const model = this.parts.model
    const layout = this.parts.layout()
    switch (event.type) {
      case 'chat.message':
        if (event.message.author_id !== me && chatAnnounced() && layout) announce(layout.chat.announcement(event.message))
        break
      case 'hand.raised':
        if (event.user_id === me) announce(t('room.announce.myHandUp'))
        else if (model.amHost) announce(t('room.announce.handUp', { name: model.name(event.user_id), position: model.handPosition(event.user_id) }))
        break
      case 'hand.lowered':
        if (event.user_id === me) announce(t(event.by && event.by !== me ? 'room.announce.myHandLoweredByHost' : 'room.announce.myHandDown'))
        break
      case 'presence.connected':
        if (arriving && model.amHost && event.user.user_id !== me) announce(t('room.announce.joined', { name: event.user.name }))
        break
      case 'presence.disconnected':
        if (leaving && event.last && model.amHost && event.user_id !== me) announce(t('room.announce.left', { name: leaving }))
        break
      case 'quiz.launched':
        if (!model.amHost) announce(t('liveQuiz.announce.launched', { title: event.quiz.title }))
        break
      case 'quiz.revealed': {
        const quiz = model.quizzes.get(event.quiz_id)
        if (quiz && !model.amHost) announce(t('liveQuiz.announce.revealed', { title: quiz.title }))
        break
      }
    }
  }
}

function closingToast(closesAt: string): void {
  toast(t('room.closing', { time: formatTime(closesAt) }), 'info', 30000)
}
