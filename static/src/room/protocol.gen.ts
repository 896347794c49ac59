// The room protocol's types, generated from the server's catalogue (rooms/catalogue.py)
// by `python -m rooms.typescript` (part of `npm run build`). Do not edit: change the
// models in rooms/messages.py, rooms/events.py or rooms/replies.py and regenerate.

export interface Ping {
  type: 'ping'
  ref?: string | null
}

export interface ChatSend {
  type: 'chat.send'
  ref?: string | null
  text: string
  to?: string | 'hosts' | null
}

export interface ChatEdit {
  type: 'chat.edit'
  ref?: string | null
  message_id: string
  text: string
}

export interface ChatDelete {
  type: 'chat.delete'
  ref?: string | null
  message_id: string
}

export interface ChatReact {
  type: 'chat.react'
  ref?: string | null
  message_id: string
  emoji: string
  add?: boolean
}

export interface ChatTyping {
  type: 'chat.typing'
  ref?: string | null
  to?: string | 'hosts' | null
}

export interface HandRaise {
  type: 'hand.raise'
  ref?: string | null
}

export interface HandLower {
  type: 'hand.lower'
  ref?: string | null
  user_id?: string | null
}

export interface ReactionSend {
  type: 'reaction.send'
  ref?: string | null
  emoji: string
}

export interface StatusSet {
  type: 'status.set'
  ref?: string | null
  camera?: boolean | null
  mic?: boolean | null
  screen?: boolean | null
  away?: boolean | null
}

export interface ParticipantMute {
  type: 'participant.mute'
  ref?: string | null
  user_id: string
}

export interface ParticipantAskUnmute {
  type: 'participant.ask_unmute'
  ref?: string | null
  user_id: string
}

export interface RoomMuteAll {
  type: 'room.mute_all'
  ref?: string | null
}

export interface ParticipantRemove {
  type: 'participant.remove'
  ref?: string | null
  user_id: string
  ban?: boolean
}

export interface ParticipantSetRole {
  type: 'participant.set_role'
  ref?: string | null
  user_id: string
  role: RoomRole
}

export type RoomRole = 'host' | 'co-host' | 'presenter' | 'participant' | 'observer'

export interface RoomSpotlight {
  type: 'room.spotlight'
  ref?: string | null
  user_id: string | null
}

/** Change room settings; only the fields given change. */
export interface RoomSettings {
  type: 'room.settings'
  ref?: string | null
  locked?: boolean | null
  lobby?: boolean | null
  chat_enabled?: boolean | null
  slow_mode_seconds?: number | null
  whiteboard_locked?: boolean | null
  notes_locked?: boolean | null
}

export interface LobbyAdmit {
  type: 'lobby.admit'
  ref?: string | null
  user_id: string
}

export interface LobbyDeny {
  type: 'lobby.deny'
  ref?: string | null
  user_id: string
}

export interface RoomEnd {
  type: 'room.end'
  ref?: string | null
}

export interface PollCreate {
  type: 'poll.create'
  ref?: string | null
  question: string
  options: string[]
  multiple?: boolean
  anonymous?: boolean
}

export interface PollVote {
  type: 'poll.vote'
  ref?: string | null
  poll_id: string
  choices: number[]
}

export interface PollPublish {
  type: 'poll.publish'
  ref?: string | null
  poll_id: string
}

export interface PollClose {
  type: 'poll.close'
  ref?: string | null
  poll_id: string
}

/** Create breakout rooms and assign people: explicitly, automatically, or both. */
export interface BreakoutCreate {
  type: 'breakout.create'
  ref?: string | null
  count: number
  names?: string[] | null
  assignments?: Record<string, number>
  auto?: boolean
}

export interface BreakoutAssign {
  type: 'breakout.assign'
  ref?: string | null
  user_id: string
  index: number
}

export interface BreakoutOpen {
  type: 'breakout.open'
  ref?: string | null
  duration_seconds?: number | null
}

export interface BreakoutBroadcast {
  type: 'breakout.broadcast'
  ref?: string | null
  text: string
}

export interface BreakoutClose {
  type: 'breakout.close'
  ref?: string | null
}

export interface MediaPublish {
  type: 'media.publish'
  ref?: string | null
  sdp: string
  tracks: MediaTrackSpec[]
}

/** One m-line of a publisher offer and the source it carries. */
export interface MediaTrackSpec {
  mid: string
  source: 'camera' | 'microphone' | 'screen'
}

export interface MediaUnpublish {
  type: 'media.unpublish'
  ref?: string | null
  source: 'camera' | 'microphone' | 'screen'
}

export interface MediaSubscribe {
  type: 'media.subscribe'
  ref?: string | null
}

export interface MediaAnswer {
  type: 'media.answer'
  ref?: string | null
  sdp: string
  version: number
}

export interface MediaMute {
  type: 'media.mute'
  ref?: string | null
  user_id: string
  source: 'camera' | 'microphone' | 'screen'
}

export interface MediaRecord {
  type: 'media.record'
  ref?: string | null
  on: boolean
}

export interface CaptionSend {
  type: 'caption.send'
  ref?: string | null
  utterance: string
  text: string
  final?: boolean
  speaker?: string | null
  seconds?: number | null
}

export interface CaptionAssign {
  type: 'caption.assign'
  ref?: string | null
  user_id: string
  on?: boolean
}

export interface CaptionAuto {
  type: 'caption.auto'
  ref?: string | null
  on: boolean
}

export interface QuizLaunch {
  type: 'quiz.launch'
  ref?: string | null
  title: string
  questions: Record<string, unknown>[]
  seconds?: number | null
  points?: number | null
}

export interface QuizAnswer {
  type: 'quiz.answer'
  ref?: string | null
  quiz_id: string
  question_id: string
  response: Record<string, unknown>
}

export interface QuizClose {
  type: 'quiz.close'
  ref?: string | null
  quiz_id: string
}

export interface QuizReveal {
  type: 'quiz.reveal'
  ref?: string | null
  quiz_id: string
}

export interface QuizResult {
  type: 'quiz.result'
  ref?: string | null
  quiz_id: string
}

export interface QuizGrade {
  type: 'quiz.grade'
  ref?: string | null
  quiz_id: string
}

/** The first message of a session: a snapshot, or ``recovered`` and the missed events. */
export interface Welcome {
  type: 'welcome'
  protocol: number
  recovered: boolean
  position: Position
  you: You
  ice_servers?: IceServer[]
  snapshot?: Snapshot
  recovery_failed?: string
}

export interface Position {
  epoch: string
  seq: number
}

export interface You {
  user_id: string
  name: string
  conn_id: string
  role: RoomRole
  grants: Grant[]
}

export type Grant = 'chat' | 'publish_audio' | 'publish_video' | 'publish_screen' | 'whiteboard_write' | 'notes_write' | 'moderate' | 'react' | 'raise_hand' | 'vote' | 'caption'

export interface IceServer {
  urls: string[]
  username?: string
  credential?: string
}

/** The whole room as the viewer may see it. */
export interface Snapshot {
  room: RoomInfo
  participants: ParticipantView[]
  hands: Hand[]
  chat: ChatEntry[]
  polls: PollView[]
  spotlight: string | null
  lobby: Waiting[]
  breakouts: Breakouts | null
  media: MediaState
  captions: CaptionsView
  quizzes: QuizView[]
}

export interface RoomInfo {
  id: string
  title: string
  status: 'open' | 'ended'
  settings: Settings
  parent_id: string | null
  closing: RoomClosingInfo | null
}

/** A room's settings as clients see them. */
export interface Settings {
  open: boolean
  lobby: boolean
  locked: boolean
  chat_enabled: boolean
  slow_mode_seconds: number
  whiteboard_locked: boolean
  notes_locked: boolean
  max_participants: number
}

/** The room ends at ``closes_at`` (a scheduled session reached its end). */
export interface RoomClosingInfo {
  closes_at: string
  reason: string
}

export interface ParticipantView {
  user_id: string
  name: string
  role: RoomRole
  connections: number
  camera: boolean
  mic: boolean
  screen: boolean
  away: boolean
  joined_at: string
}

export interface Hand {
  user_id: string
  at: string
}

/** A chat message as events and snapshots carry it. */
export interface ChatEntry {
  id: string
  author_id: string | null
  author_name: string
  text: string
  to_user_id: string | null
  to_hosts: boolean
  at: string
  edited_at: string | null
  deleted: boolean
  reactions: Record<string, string[]>
}

/** A poll as one viewer sees it: ``results`` for hosts, or for all once published. */
export interface PollView {
  id: string
  question: string
  options: string[]
  multiple: boolean
  anonymous: boolean
  status: 'open' | 'closed'
  published: boolean
  my_vote: number[] | null
  results?: PollResults
}

export interface PollResults {
  counts: number[]
  votes: number
  voters?: Record<string, number[]>
}

export interface Waiting {
  user_id: string
  name: string
  since: string
}

export interface Breakouts {
  status: 'created' | 'open' | 'closed'
  rooms: BreakoutRoom[]
  assignments: Record<string, number>
  ends_at: string | null
}

export interface BreakoutRoom {
  id: string
  name: string
}

export interface MediaState {
  tracks: TrackInfo[]
  recording: Recording | null
}

/** A published track (``external``: from WHIP, not a room connection). */
export interface TrackInfo {
  track_id: string
  user_id: string
  conn_id: string
  kind: 'audio' | 'video'
  source: 'camera' | 'microphone' | 'screen'
  external?: boolean
}

export interface Recording {
  recording_id: string
  by: string | null
  started_at: string | null
}

/** The snapshot's ``captions``. */
export interface CaptionsView {
  captioners: string[]
  auto: boolean
  lines: CaptionLineEntry[]
}

/** A final caption line as events, snapshots and the transcript carry it. ``start`` and ``end`` are ISO 8601 wall-clock times of the speech it covers; ``author_id`` is the captioner (null for automatic lines), ``track_id`` the audio the engine heard (automatic lines only). */
export interface CaptionLineEntry {
  id: string
  source: 'human' | 'auto'
  utterance: string
  speaker_id: string | null
  speaker_name: string
  author_id: string | null
  track_id: string | null
  text: string
  start: string
  end: string
}

/** A quiz in the snapshot as one viewer sees it: ``keys`` and ``tallies`` for hosts or for everyone once revealed; ``my_score`` once revealed (null: did not answer). */
export interface QuizView {
  id: string
  title: string
  points: number
  questions: QuizQuestion[]
  created_by: string
  launched_at: string
  closes_at: string | null
  status: 'open' | 'closed'
  revealed: boolean
  graded: boolean
  my_answers: Record<string, Record<string, unknown>>
  keys?: Record<string, Record<string, unknown>>
  tallies?: Record<string, QuestionTally>
  my_score?: number | null
}

/** A question as students see it: its id in the quiz and the key-free view. */
export interface QuizQuestion {
  id: string
  view: Record<string, unknown>
}

/** How a question was answered: counts by credit and by choice picked (author ids). */
export interface QuestionTally {
  answered: number
  correct: number
  partial: number
  picks: Record<string, number>
}

export interface Pong {
  type: 'pong'
  ref: string | null
}

/** A command succeeded; its extras depend on the command (see docs/protocol.md). */
export interface Ack {
  type: 'ack'
  ref: string | null
  message_id?: string
  poll_id?: string
  rooms?: BreakoutRoom[]
  position?: number
  sdp?: string
  tracks?: TrackInfo[]
  muted?: string[]
  recording_id?: string
  on?: boolean
  quiz_id?: string
  score?: number
  points?: number
  credits?: Record<string, number>
  students?: number
}

export interface ErrorReply {
  type: 'error'
  ref: string | null
  code: string
  message: string
}

/** Sent (no ``seq``) to a person put in the lobby: wait for a host. */
export interface LobbyWait {
  type: 'lobby.waiting'
  protocol: number
}

export interface MediaOffer {
  type: 'media.offer'
  version: number
  sdp: string
  tracks: OfferedTrack[]
}

export interface OfferedTrack {
  mid: string
  track_id: string
  user_id: string
  conn_id: string
  kind: 'audio' | 'video'
  source: 'camera' | 'microphone' | 'screen'
}

export interface MediaReconnect {
  type: 'media.reconnect'
  reason: 'node-lost' | 'node-draining'
}

export interface PresenceConnectedEvent {
  type: 'presence.connected'
  audience?: Audience
  at: string
  by?: string | null
  user: UserRef
  conn_id: string
  node: string
  first: boolean
  seq: number
}

/** Who receives an event when not everyone: these users, and/or the hosts. */
export interface Audience {
  users?: string[]
  hosts?: boolean
}

export interface UserRef {
  user_id: string
  name: string
  role: RoomRole
}

export interface PresenceDisconnectedEvent {
  type: 'presence.disconnected'
  audience?: Audience
  at: string
  by?: string | null
  user_id: string
  conn_id: string
  last: boolean
  seq: number
}

export interface ParticipantStatusEvent {
  type: 'participant.status'
  audience?: Audience
  at: string
  by?: string | null
  user_id: string
  camera?: boolean
  mic?: boolean
  screen?: boolean
  away?: boolean
  seq: number
}

export interface ParticipantMutedEvent {
  type: 'participant.muted'
  audience?: Audience
  at: string
  by?: string | null
  user_id: string
  seq: number
}

export interface ParticipantRoleEvent {
  type: 'participant.role'
  audience?: Audience
  at: string
  by?: string | null
  user_id: string
  role: RoomRole
  seq: number
}

export interface ParticipantRemovedEvent {
  type: 'participant.removed'
  audience?: Audience
  at: string
  by?: string | null
  user_id: string
  ban?: boolean
  seq: number
}

export interface ParticipantUnbannedEvent {
  type: 'participant.unbanned'
  audience?: Audience
  at: string
  by?: string | null
  user_id: string
  seq: number
}

export interface ParticipantUnmuteRequestedEvent {
  type: 'participant.unmute_requested'
  audience?: Audience
  at: string
  by?: string | null
  user_id: string
  seq: number
}

export interface RoomMutedAllEvent {
  type: 'room.muted_all'
  audience?: Audience
  at: string
  by?: string | null
  seq: number
}

export interface RoomSpotlightedEvent {
  type: 'room.spotlight'
  audience?: Audience
  at: string
  by?: string | null
  user_id: string | null
  seq: number
}

export interface RoomSettingsChangedEvent {
  type: 'room.settings'
  audience?: Audience
  at: string
  by?: string | null
  changes: SettingsChanges
  seq: number
}

/** The settings a ``room.settings`` event changed (the others are absent). */
export interface SettingsChanges {
  open?: boolean
  lobby?: boolean
  locked?: boolean
  chat_enabled?: boolean
  slow_mode_seconds?: number
  whiteboard_locked?: boolean
  notes_locked?: boolean
  max_participants?: number
}

export interface RoomRenamedEvent {
  type: 'room.renamed'
  audience?: Audience
  at: string
  by?: string | null
  title: string
  seq: number
}

/** The room will end at ``closes_at`` (a scheduled session reached its end): a warning to everyone in it; at that time every connection closes with 4010. */
export interface RoomClosingEvent {
  type: 'room.closing'
  audience?: Audience
  at: string
  by?: string | null
  closes_at: string
  reason: string
  seq: number
}

export interface RoomEndedEvent {
  type: 'room.ended'
  audience?: Audience
  at: string
  by?: string | null
  reason?: string
  seq: number
}

export interface HandRaisedEvent {
  type: 'hand.raised'
  audience?: Audience
  at: string
  by?: string | null
  user_id: string
  seq: number
}

export interface HandLoweredEvent {
  type: 'hand.lowered'
  audience?: Audience
  at: string
  by?: string | null
  user_id: string
  seq: number
}

export interface ChatMessagedEvent {
  type: 'chat.message'
  audience?: Audience
  at: string
  by?: string | null
  message: ChatEntry
  seq: number
}

export interface ChatEditedEvent {
  type: 'chat.edited'
  audience?: Audience
  at: string
  by?: string | null
  message_id: string
  text: string
  seq: number
}

export interface ChatDeletedEvent {
  type: 'chat.deleted'
  audience?: Audience
  at: string
  by?: string | null
  message_id: string
  seq: number
}

export interface ChatReactionEvent {
  type: 'chat.reaction'
  audience?: Audience
  at: string
  by?: string | null
  message_id: string
  emoji: string
  add: boolean
  seq: number
}

export interface LobbyWaitingEvent {
  type: 'lobby.waiting'
  audience?: Audience
  at: string
  by?: string | null
  user: Waiting
  conn_id: string
  seq: number
}

export interface LobbyLeftEvent {
  type: 'lobby.left'
  audience?: Audience
  at: string
  by?: string | null
  user_id: string
  conn_id: string
  seq: number
}

export interface LobbyAdmittedEvent {
  type: 'lobby.admitted'
  audience?: Audience
  at: string
  by?: string | null
  user_id: string
  seq: number
}

export interface LobbyDeniedEvent {
  type: 'lobby.denied'
  audience?: Audience
  at: string
  by?: string | null
  user_id: string
  seq: number
}

export interface PollCreatedEvent {
  type: 'poll.created'
  audience?: Audience
  at: string
  by?: string | null
  poll: NewPoll
  seq: number
}

export interface NewPoll {
  id: string
  question: string
  options: string[]
  multiple: boolean
  anonymous: boolean
  created_by: string
}

/** ``by`` names the voter of a named poll, ``voter`` (a keyed hash) of an anonymous one. */
export interface PollVotedEvent {
  type: 'poll.voted'
  audience?: Audience
  at: string
  by?: string | null
  poll_id: string
  choices: number[]
  voter?: string
  seq: number
}

export interface PollPublishedEvent {
  type: 'poll.published'
  audience?: Audience
  at: string
  by?: string | null
  poll_id: string
  results: PollResults
  seq: number
}

export interface PollClosedEvent {
  type: 'poll.closed'
  audience?: Audience
  at: string
  by?: string | null
  poll_id: string
  seq: number
}

export interface BreakoutCreatedEvent {
  type: 'breakout.created'
  audience?: Audience
  at: string
  by?: string | null
  rooms: BreakoutRoom[]
  assignments: Record<string, number>
  seq: number
}

export interface BreakoutAssignedEvent {
  type: 'breakout.assigned'
  audience?: Audience
  at: string
  by?: string | null
  user_id: string
  index: number
  seq: number
}

export interface BreakoutOpenedEvent {
  type: 'breakout.opened'
  audience?: Audience
  at: string
  by?: string | null
  ends_at: string | null
  seq: number
}

export interface BreakoutBroadcastEvent {
  type: 'breakout.broadcast'
  audience?: Audience
  at: string
  by?: string | null
  text: string
  name: string
  seq: number
}

/** ``parent``: sent in a breakout room as it ends (go back to the parent room). */
export interface BreakoutClosedEvent {
  type: 'breakout.closed'
  audience?: Audience
  at: string
  by?: string | null
  parent?: boolean
  seq: number
}

export interface TrackPublishedEvent {
  type: 'media.track_published'
  audience?: Audience
  at: string
  by?: string | null
  track_id: string
  user_id: string
  conn_id: string
  kind: 'audio' | 'video'
  source: 'camera' | 'microphone' | 'screen'
  external?: boolean
  seq: number
}

export interface TrackUnpublishedEvent {
  type: 'media.track_unpublished'
  audience?: Audience
  at: string
  by?: string | null
  track_id: string
  user_id: string
  reason: 'unpublished' | 'left' | 'muted' | 'failed'
  seq: number
}

export interface TrackMutedEvent {
  type: 'media.track_muted'
  audience?: Audience
  at: string
  by?: string | null
  track_id: string
  user_id: string
  source: 'camera' | 'microphone' | 'screen'
  seq: number
}

export interface RecordingSwitchedEvent {
  type: 'media.recording'
  audience?: Audience
  at: string
  by?: string | null
  on: boolean
  recording_id: string
  seq: number
}

export interface CaptionLinedEvent {
  type: 'caption.line'
  audience?: Audience
  at: string
  by?: string | null
  line: CaptionLineEntry
  seq: number
}

export interface CaptionCaptionerEvent {
  type: 'caption.captioner'
  audience?: Audience
  at: string
  by?: string | null
  user_id: string
  on: boolean
  seq: number
}

export interface CaptionAutoSwitchedEvent {
  type: 'caption.auto'
  audience?: Audience
  at: string
  by?: string | null
  on: boolean
  seq: number
}

export interface QuizLaunchedEvent {
  type: 'quiz.launched'
  audience?: Audience
  at: string
  by?: string | null
  quiz: NewQuiz
  seq: number
}

export interface NewQuiz {
  id: string
  title: string
  points: number
  questions: QuizQuestion[]
  created_by: string
  launched_at: string
  closes_at: string | null
}

export interface QuizKeyedEvent {
  type: 'quiz.keyed'
  audience?: Audience
  at: string
  by?: string | null
  quiz_id: string
  keys: Record<string, Record<string, unknown>>
  seq: number
}

export interface QuizAnsweredEvent {
  type: 'quiz.answered'
  audience?: Audience
  at: string
  by?: string | null
  quiz_id: string
  question_id: string
  response: Record<string, unknown>
  seq: number
}

export interface QuizTalliedEvent {
  type: 'quiz.tallied'
  audience?: Audience
  at: string
  by?: string | null
  quiz_id: string
  question_id: string
  user_id: string
  name: string
  picks: string[]
  credit: number
  seq: number
}

export interface QuizClosedEvent {
  type: 'quiz.closed'
  audience?: Audience
  at: string
  by?: string | null
  quiz_id: string
  seq: number
}

export interface QuizRevealedEvent {
  type: 'quiz.revealed'
  audience?: Audience
  at: string
  by?: string | null
  quiz_id: string
  keys: Record<string, Record<string, unknown>>
  tallies: Record<string, QuestionTally>
  seq: number
}

export interface QuizGradedEvent {
  type: 'quiz.graded'
  audience?: Audience
  at: string
  by?: string | null
  quiz_id: string
  students: number
  seq: number
}

export interface ChatTypingEvent {
  type: 'chat.typing'
  audience?: Audience
  user_id: string
  name: string
}

export interface ReactionEvent {
  type: 'reaction'
  audience?: Audience
  user_id: string
  emoji: string
}

export interface ActiveSpeakerEvent {
  type: 'media.active_speaker'
  audience?: Audience
  user_id: string
  level: number
}

export interface CaptionPartialEvent {
  type: 'caption.partial'
  audience?: Audience
  source: 'human' | 'auto'
  utterance: string
  text: string
  speaker_id: string | null
  speaker_name: string
  by?: string | null
  track_id?: string | null
}

export type ClientMessage =
  | Ping
  | ChatSend
  | ChatEdit
  | ChatDelete
  | ChatReact
  | ChatTyping
  | HandRaise
  | HandLower
  | ReactionSend
  | StatusSet
  | ParticipantMute
  | ParticipantAskUnmute
  | RoomMuteAll
  | ParticipantRemove
  | ParticipantSetRole
  | RoomSpotlight
  | RoomSettings
  | LobbyAdmit
  | LobbyDeny
  | RoomEnd
  | PollCreate
  | PollVote
  | PollPublish
  | PollClose
  | BreakoutCreate
  | BreakoutAssign
  | BreakoutOpen
  | BreakoutBroadcast
  | BreakoutClose
  | MediaPublish
  | MediaUnpublish
  | MediaSubscribe
  | MediaAnswer
  | MediaMute
  | MediaRecord
  | CaptionSend
  | CaptionAssign
  | CaptionAuto
  | QuizLaunch
  | QuizAnswer
  | QuizClose
  | QuizReveal
  | QuizResult
  | QuizGrade

export type RoomEvent =
  | PresenceConnectedEvent
  | PresenceDisconnectedEvent
  | ParticipantStatusEvent
  | ParticipantMutedEvent
  | ParticipantRoleEvent
  | ParticipantRemovedEvent
  | ParticipantUnbannedEvent
  | ParticipantUnmuteRequestedEvent
  | RoomMutedAllEvent
  | RoomSpotlightedEvent
  | RoomSettingsChangedEvent
  | RoomRenamedEvent
  | RoomClosingEvent
  | RoomEndedEvent
  | HandRaisedEvent
  | HandLoweredEvent
  | ChatMessagedEvent
  | ChatEditedEvent
  | ChatDeletedEvent
  | ChatReactionEvent
  | LobbyWaitingEvent
  | LobbyLeftEvent
  | LobbyAdmittedEvent
  | LobbyDeniedEvent
  | PollCreatedEvent
  | PollVotedEvent
  | PollPublishedEvent
  | PollClosedEvent
  | BreakoutCreatedEvent
  | BreakoutAssignedEvent
  | BreakoutOpenedEvent
  | BreakoutBroadcastEvent
  | BreakoutClosedEvent
  | TrackPublishedEvent
  | TrackUnpublishedEvent
  | TrackMutedEvent
  | RecordingSwitchedEvent
  | CaptionLinedEvent
  | CaptionCaptionerEvent
  | CaptionAutoSwitchedEvent
  | QuizLaunchedEvent
  | QuizKeyedEvent
  | QuizAnsweredEvent
  | QuizTalliedEvent
  | QuizClosedEvent
  | QuizRevealedEvent
  | QuizGradedEvent

export type VolatileEvent =
  | ChatTypingEvent
  | ReactionEvent
  | ActiveSpeakerEvent
  | CaptionPartialEvent

export type DirectMessage =
  | Welcome
  | Pong
  | Ack
  | ErrorReply
  | LobbyWait
  | MediaOffer
  | MediaReconnect

export type ServerMessage = RoomEvent | VolatileEvent | DirectMessage
export type ClientMessageType = ClientMessage['type']
export type RoomEventType = RoomEvent['type']
