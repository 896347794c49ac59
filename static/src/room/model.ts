// The room as this browser knows it: the welcome snapshot plus every event since, applied
// by the same rules as the server's reducer (rooms/state.py and friends).

import { t } from '../i18n'
import type { RoomRole, RoomSettings } from '../api'
import type { TrackInfo } from './media'
import type { Breakouts, ChatEntry, ParticipantView, PollResults, PollView, QuestionTally, QuizView, RoomClosingInfo, RoomEvent, Welcome, You } from './protocol.gen'

export type Participant = ParticipantView
export type ChatMessage = ChatEntry
export type Poll = PollView
export type Quiz = QuizView
export type { Breakouts, PollResults }
export type Me = You

export const HOST_ROLES: RoomRole[] = ['host', 'co-host']
const PARTICIPATE = ['chat', 'publish_audio', 'publish_video', 'whiteboard_write', 'notes_write', 'react', 'raise_hand', 'vote']
const ROLE_GRANTS: Record<RoomRole, string[]> = {
  host: [...PARTICIPATE, 'publish_screen', 'moderate'],
  'co-host': [...PARTICIPATE, 'publish_screen', 'moderate'],
  presenter: [...PARTICIPATE, 'publish_screen'],
  participant: PARTICIPATE,
  observer: ['react'],
}

/** The grants of ``role`` under the room's settings: the server's rule, mirrored. */
export function grantsFor(role: RoomRole, settings: RoomSettings): Set<string> {
  const grants = new Set(ROLE_GRANTS[role] ?? [])
  if (HOST_ROLES.includes(role)) return grants
  if (settings.whiteboard_locked) grants.delete('whiteboard_write')
  if (settings.notes_locked) grants.delete('notes_write')
  if (settings.chat_enabled === false) grants.delete('chat')
  return grants
}

/** Add one answer to a question's tally: the server's QuestionTally.count, mirrored. */
export function countAnswer(tally: QuestionTally, credit: number, picks: string[]): void {
  tally.answered += 1
  if (credit >= 1) tally.correct += 1
  else if (credit > 0) tally.partial += 1
  for (const pick of picks) tally.picks[pick] = (tally.picks[pick] ?? 0) + 1
}

export function isHost(role: RoomRole | undefined): boolean {
  return role !== undefined && HOST_ROLES.includes(role)
}

export type Change =
  | 'room'
  | 'participants'
  | 'hands'
  | 'chat'
  | 'polls'
  | 'quizzes'
  | 'lobby'
  | 'breakouts'
  | 'spotlight'
  | 'me'
  | 'media'

export class RoomModel {
  room = { id: '', title: '', status: 'open', settings: {} as RoomSettings, parent_id: null as string | null, closing: null as RoomClosingInfo | null }
  participants = new Map<string, Participant>()
  hands: { user_id: string; at: string }[] = []
  chat: ChatMessage[] = []
  polls = new Map<string, Poll>()
  quizzes = new Map<string, Quiz>()
  spotlight: string | null = null
  lobby = new Map<string, { user_id: string; name: string; since?: string }>()
  breakouts: Breakouts | null = null
  /** Published media tracks by track id (media.track_published and friends). */
  tracks = new Map<string, TrackInfo>()
  me: Me = { user_id: '', name: '', conn_id: '', role: 'participant', grants: [] }

  get grants(): Set<string> {
    return grantsFor(this.me.role, this.room.settings)
  }

  can(grant: string): boolean {
    return this.grants.has(grant)
  }

  get amHost(): boolean {
    return isHost(this.me.role)
  }

  name(userId: string | null | undefined): string {
    if (!userId) return ''
    return this.participants.get(userId)?.name ?? this.chat.find((m) => m.author_id === userId)?.author_name ?? t('room.someone')
  }

  handPosition(userId: string): number {
    return this.hands.findIndex((hand) => hand.user_id === userId) + 1
  }

  welcome(message: Welcome): void {
    this.me = message.you
    const snapshot = message.snapshot
    if (!snapshot) return
    this.room = { ...snapshot.room, settings: { ...snapshot.room.settings } }
    this.participants = new Map(snapshot.participants.map((p) => [p.user_id, p]))
    this.hands = [...snapshot.hands]
    this.chat = [...snapshot.chat]
    this.polls = new Map(snapshot.polls.map((p) => [p.id, p]))
    this.quizzes = new Map(snapshot.quizzes.map((q) => [q.id, q]))
    this.spotlight = snapshot.spotlight
    this.lobby = new Map(snapshot.lobby.map((l) => [l.user_id, l]))
    this.breakouts = snapshot.breakouts
    this.tracks = new Map(snapshot.media.tracks.map((t) => [t.track_id, t]))
  }

  /** The user's published track from ``source``, if any. */
  track(userId: string, source: string): TrackInfo | undefined {
    for (const t of this.tracks.values()) if (t.user_id === userId && t.source === source) return t
    return undefined
  }

  private message(id: string): ChatMessage | undefined {
    return this.chat.find((m) => m.id === id)
  }

  /** Apply one sequenced event; return what changed. */
  apply(event: RoomEvent): Change[] {
    const me = this.me.user_id
    switch (event.type) {
      case 'presence.connected': {
        const user = event.user
        const found = this.participants.get(user.user_id)
        if (found) found.connections += 1
        else {
          this.participants.set(user.user_id, {
            user_id: user.user_id,
            name: user.name,
            role: user.role,
            connections: 1,
            camera: false,
            mic: false,
            screen: false,
            away: false,
            joined_at: event.at,
          })
        }
        this.lobby.delete(user.user_id)
        return ['participants', 'lobby']
      }
      case 'presence.disconnected': {
        const found = this.participants.get(event.user_id)
        if (!found) return []
        found.connections = Math.max(0, found.connections - 1)
        if (event.last) {
          this.participants.delete(event.user_id)
          this.hands = this.hands.filter((h) => h.user_id !== event.user_id)
          for (const [id, t] of this.tracks) if (t.user_id === event.user_id) this.tracks.delete(id)
        }
        return ['participants', 'hands', 'media']
      }
      case 'participant.status': {
        const found = this.participants.get(event.user_id)
        if (!found) return []
        for (const key of ['camera', 'mic', 'screen', 'away'] as const) {
          if (typeof event[key] === 'boolean') found[key] = event[key]
        }
        return ['participants']
      }
      case 'participant.muted': {
        const found = this.participants.get(event.user_id)
        if (found) found.mic = false
        return ['participants']
      }
      case 'room.muted_all':
        for (const p of this.participants.values()) if (!isHost(p.role)) p.mic = false
        return ['participants']
      case 'participant.removed':
        this.participants.delete(event.user_id)
        this.hands = this.hands.filter((h) => h.user_id !== event.user_id)
        if (this.spotlight === event.user_id) this.spotlight = null
        return ['participants', 'hands', 'spotlight']
      case 'participant.role': {
        const found = this.participants.get(event.user_id)
        if (found) found.role = event.role
        if (event.user_id === me) {
          this.me = { ...this.me, role: event.role }
          return ['participants', 'me']
        }
        return ['participants']
      }
      case 'room.spotlight':
        this.spotlight = event.user_id ?? null
        return ['spotlight', 'participants']
      case 'room.settings':
        this.room.settings = { ...this.room.settings, ...event.changes }
        return ['room', 'me']
      case 'room.closing':
        this.room.closing = { closes_at: event.closes_at, reason: event.reason }
        return ['room']
      case 'room.renamed':
        this.room.title = event.title
        return ['room']
      case 'room.ended':
        this.room.status = 'ended'
        this.room.closing = null
        this.hands = []
        this.lobby.clear()
        return ['room', 'hands', 'lobby']
      case 'hand.raised':
        if (!this.hands.some((h) => h.user_id === event.user_id)) this.hands.push({ user_id: event.user_id, at: event.at })
        return ['hands', 'participants']
      case 'hand.lowered':
        this.hands = this.hands.filter((h) => h.user_id !== event.user_id)
        return ['hands', 'participants']
      case 'chat.message':
        if (!this.message(event.message.id)) this.chat.push({ ...event.message, reactions: event.message.reactions ?? {} })
        return ['chat']
      case 'chat.edited': {
        const found = this.message(event.message_id)
        if (found) {
          found.text = event.text
          found.edited_at = event.at
        }
        return ['chat']
      }
      case 'chat.deleted': {
        const found = this.message(event.message_id)
        if (found) {
          found.deleted = true
          found.text = ''
        }
        return ['chat']
      }
      case 'chat.reaction': {
        const found = this.message(event.message_id)
        if (!found || !event.by) return []
        const who = new Set(found.reactions[event.emoji] ?? [])
        if (event.add === false) who.delete(event.by)
        else who.add(event.by)
        if (who.size) found.reactions[event.emoji] = [...who]
        else delete found.reactions[event.emoji]
        return ['chat']
      }
      case 'lobby.waiting':
        this.lobby.set(event.user.user_id, event.user)
        return ['lobby']
      case 'lobby.left':
      case 'lobby.denied':
      case 'lobby.admitted':
        this.lobby.delete(event.user_id)
        return ['lobby']
      case 'poll.created':
        this.polls.set(event.poll.id, {
          status: 'open',
          published: false,
          my_vote: null,
          ...event.poll,
          results: this.amHost ? { counts: event.poll.options.map(() => 0), votes: 0 } : undefined,
        })
        return ['polls']
      case 'poll.voted': {
        const poll = this.polls.get(event.poll_id)
        if (!poll) return []
        if (event.by === me) poll.my_vote = event.choices
        if (poll.results && this.amHost) {
          for (const choice of event.choices as number[]) poll.results.counts[choice] = (poll.results.counts[choice] ?? 0) + 1
          poll.results.votes += 1
          if (event.by && !poll.anonymous) {
            poll.results.voters = { ...(poll.results.voters ?? {}), [event.by]: event.choices }
          }
        }
        return ['polls']
      }
      case 'poll.published': {
        const poll = this.polls.get(event.poll_id)
        if (!poll) return []
        poll.published = true
        poll.results = { ...(poll.results ?? {}), ...event.results }
        return ['polls']
      }
      case 'poll.closed': {
        const poll = this.polls.get(event.poll_id)
        if (poll) poll.status = 'closed'
        return ['polls']
      }
      case 'quiz.launched':
        this.quizzes.set(event.quiz.id, {
          ...event.quiz,
          status: 'open',
          revealed: false,
          graded: false,
          my_answers: {},
          tallies: this.amHost ? {} : undefined,
        })
        return ['quizzes']
      case 'quiz.keyed': {
        const quiz = this.quizzes.get(event.quiz_id)
        if (quiz) quiz.keys = event.keys
        return ['quizzes']
      }
      case 'quiz.answered': {
        const quiz = this.quizzes.get(event.quiz_id)
        if (quiz && event.by === me) quiz.my_answers = { ...quiz.my_answers, [event.question_id]: event.response }
        return ['quizzes']
      }
      case 'quiz.tallied': {
        const quiz = this.quizzes.get(event.quiz_id)
        if (!quiz) return []
        const tallies = (quiz.tallies ??= {})
        countAnswer((tallies[event.question_id] ??= { answered: 0, correct: 0, partial: 0, picks: {} }), event.credit, event.picks)
        return ['quizzes']
      }
      case 'quiz.closed': {
        const quiz = this.quizzes.get(event.quiz_id)
        if (quiz) quiz.status = 'closed'
        return ['quizzes']
      }
      case 'quiz.revealed': {
        const quiz = this.quizzes.get(event.quiz_id)
        if (!quiz) return []
        Object.assign(quiz, { status: 'closed', revealed: true, keys: event.keys, tallies: event.tallies })
        return ['quizzes']
      }
      case 'quiz.graded': {
        const quiz = this.quizzes.get(event.quiz_id)
        if (quiz) quiz.graded = true
        return ['quizzes']
      }
      case 'media.track_published':
        this.tracks.set(event.track_id, {
          track_id: event.track_id,
          user_id: event.user_id,
          conn_id: event.conn_id,
          kind: event.kind,
          source: event.source,
        })
        return ['media']
      case 'media.track_unpublished':
      case 'media.track_muted':
        this.tracks.delete(event.track_id)
        return ['media']
      case 'breakout.created':
        this.breakouts = { status: 'created', rooms: event.rooms, assignments: { ...event.assignments }, ends_at: null }
        return ['breakouts']
      case 'breakout.assigned':
        if (this.breakouts) this.breakouts.assignments[event.user_id] = event.index
        return ['breakouts']
      case 'breakout.opened':
        if (this.breakouts) {
          this.breakouts.status = 'open'
          this.breakouts.ends_at = event.ends_at
        }
        return ['breakouts']
      case 'breakout.closed':
        if (event.parent) this.room.status = 'ended'
        else if (this.breakouts) this.breakouts.status = 'closed'
        return ['breakouts', 'room']
      default:
        return []
    }
  }

  /** My breakout room, when breakouts are open and I am assigned. */
  myBreakout(): { id: string; name: string } | null {
    const b = this.breakouts
    if (!b || b.status !== 'open') return null
    const index = b.assignments[this.me.user_id]
    return index === undefined ? null : (b.rooms[index] ?? null)
  }
}
