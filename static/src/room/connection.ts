// The room channel: one WebSocket per room page, with automatic reconnect and recovery.
//
// Every reconnect first fetches a fresh join token over REST (they last 10 minutes), then
// opens /ws/rooms/{id}?token=…&epoch=E&seq=N so the server replays what we missed (or
// sends a fresh snapshot when it cannot). A heartbeat notices dead sockets; the browser's
// offline/online events drop and restore the socket at once.

import { ApiError, type JoinInfo } from '../api'
import { type MessageKey, t } from '../i18n'
import type { Ack, ClientMessage, MediaOffer, MediaReconnect, RoomEvent, ServerMessage, VolatileEvent, Welcome } from './protocol.gen'

/** What arrives without a ``seq`` and is not an answer: volatile events and media signalling. */
export type LiveMessage = VolatileEvent | MediaOffer | MediaReconnect
export type ConnState = 'connecting' | 'lobby' | 'open' | 'reconnecting' | 'offline' | 'closed'

export interface Closed {
  code: number
  reason: string
  /** Why we stopped, for people. */
  message: string
}

export class CommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** Close codes after which reconnecting cannot help. */
const FINAL: Record<number, MessageKey> = {
  1002: 'close.1002',
  1003: 'close.1003',
  1009: 'close.1009',
  4003: 'close.4003',
  4009: 'close.4009',
  4010: 'close.4010',
  4030: 'close.4030',
  4031: 'close.4031',
}

const PING_EVERY_MS = 15_000
const PONG_WITHIN_MS = 10_000

export interface ConnectionHandlers {
  join(): Promise<JoinInfo>
  welcome(message: Welcome, join: JoinInfo): void
  event(message: RoomEvent): void
  volatile(message: LiveMessage): void
  state(state: ConnState, detail: { attempt: number; nextInMs?: number }): void
  closed(info: Closed): void
}

export class RoomConnection {
  epoch: string | null = null
  seq = 0
  state: ConnState = 'connecting'
  join: JoinInfo | null = null
  private ws: WebSocket | null = null
  private attempt = 0
  private unauthorized = 0
  private stopped = false
  private connecting = false
  private retryTimer = 0
  private pingTimer = 0
  private pongTimer = 0
  private refs = 0
  private pending = new Map<string, { resolve: (m: Ack) => void; reject: (e: Error) => void }>()

  constructor(
    readonly roomId: string,
    private readonly handlers: ConnectionHandlers,
  ) {
    window.addEventListener('offline', this.wentOffline)
    window.addEventListener('online', this.cameOnline)
  }

  start(): void {
    window.clearTimeout(this.retryTimer)
    void this.connect()
  }

  /** Leave the room for good (navigation, sign out). */
  stop(): void {
    this.stopped = true
    window.removeEventListener('offline', this.wentOffline)
    window.removeEventListener('online', this.cameOnline)
    window.clearTimeout(this.retryTimer)
    this.stopHeartbeat()
    const ws = this.ws
    this.ws = null
    ws?.close(1000, 'left the room')
    this.failPending('left the room')
  }

  /** Send a command; resolves with its ack, rejects with CommandError on an error reply. */
  send(message: ClientMessage): Promise<Ack> {
    const ws = this.ws
    if (!ws || ws.readyState !== WebSocket.OPEN || this.state !== 'open') {
      return Promise.reject(new CommandError('not-connected', t('close.notConnected')))
    }
    const ref = `c${++this.refs}`
    return new Promise((resolve, reject) => {
      this.pending.set(ref, { resolve, reject })
      ws.send(JSON.stringify({ ...message, ref }))
    })
  }

  /** Fire and forget (typing, emoji); silently dropped while disconnected. */
  cast(message: ClientMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN && this.state === 'open') this.ws.send(JSON.stringify(message))
  }

  private setState(state: ConnState, nextInMs?: number): void {
    this.state = state
    this.handlers.state(state, { attempt: this.attempt, nextInMs })
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.connecting || this.ws) return
    this.connecting = true
    try {
      await this.open()
    } finally {
      this.connecting = false
    }
  }

  private async open(): Promise<void> {
    if (!navigator.onLine) {
      this.setState('offline')
      return
    }
    this.setState(this.epoch ? 'reconnecting' : 'connecting')
    let join: JoinInfo
    try {
      join = await this.handlers.join()
    } catch (error) {
      if (error instanceof ApiError && [401, 403, 404, 410].includes(error.status)) {
        this.finish({ code: error.status, reason: error.title, message: error.readable })
      } else {
        this.retry()
      }
      return
    }
    if (this.stopped) return
    this.join = join
    const params = new URLSearchParams({ token: join.token })
    if (this.epoch) {
      params.set('epoch', this.epoch)
      params.set('seq', String(this.seq))
    }
    const base = join.ws_url || `${location.origin.replace(/^http/, 'ws')}/ws/rooms/${this.roomId}`
    const ws = new WebSocket(`${base}?${params}`)
    this.ws = ws
    ws.onmessage = (event) => {
      if (ws !== this.ws) return
      this.armHeartbeat()
      for (const line of String(event.data).split('\n')) {
        if (line) this.receive(JSON.parse(line) as ServerMessage)
      }
    }
    ws.onclose = (event) => {
      if (ws !== this.ws) return
      this.ws = null
      this.closed(event.code, event.reason)
    }
    ws.onopen = () => this.armHeartbeat()
  }

  private receive(message: ServerMessage): void {
    switch (message.type) {
      case 'welcome':
        this.attempt = 0
        this.unauthorized = 0
        this.epoch = message.position.epoch
        this.seq = message.position.seq
        this.setState('open')
        this.handlers.welcome(message, this.join as JoinInfo)
        return
      case 'lobby.waiting':
        if (!('seq' in message)) {
          this.setState('lobby')
          return
        }
        break
      case 'pong':
        return
      case 'ack':
      case 'error': {
        const waiting = message.ref ? this.pending.get(message.ref) : undefined
        if (waiting && message.ref) {
          this.pending.delete(message.ref)
          if (message.type === 'ack') waiting.resolve(message)
          else waiting.reject(new CommandError(message.code, message.message))
        }
        return
      }
    }
    if ('seq' in message) {
      if (message.seq <= this.seq) return // already in the snapshot, or a duplicate
      this.seq = message.seq
      this.handlers.event(message)
    } else {
      this.handlers.volatile(message)
    }
  }

  private closed(code: number, reason: string): void {
    this.stopHeartbeat()
    this.failPending('connection lost')
    if (this.stopped) return
    if (code in FINAL) {
      this.finish({ code, reason, message: t(FINAL[code]) })
      return
    }
    if (code === 4001 && ++this.unauthorized > 3) {
      this.finish({ code, reason, message: t('close.signIn') })
      return
    }
    if (!navigator.onLine) {
      this.setState('offline')
      return
    }
    this.retry(code === 4029 ? 5000 : undefined)
  }

  private retry(delay?: number): void {
    if (this.stopped) return
    this.attempt += 1
    const wait = delay ?? Math.min(10_000, 250 * 2 ** Math.min(this.attempt, 6)) * (0.75 + Math.random() / 2)
    this.setState('reconnecting', wait)
    window.clearTimeout(this.retryTimer)
    this.retryTimer = window.setTimeout(() => void this.connect(), wait)
  }

  private finish(info: Closed): void {
    this.stopped = true
    window.clearTimeout(this.retryTimer)
    this.setState('closed')
    this.handlers.closed(info)
  }

  private failPending(why: string): void {
    for (const waiting of this.pending.values()) waiting.reject(new CommandError('not-connected', why))
    this.pending.clear()
  }

  private armHeartbeat(): void {
    window.clearTimeout(this.pongTimer)
    window.clearTimeout(this.pingTimer)
    this.pingTimer = window.setTimeout(() => {
      const ws = this.ws
      if (!ws || ws.readyState !== WebSocket.OPEN) return
      ws.send(JSON.stringify({ type: 'ping' } satisfies ClientMessage))
      this.pongTimer = window.setTimeout(() => this.drop(), PONG_WITHIN_MS)
    }, PING_EVERY_MS)
  }

  private stopHeartbeat(): void {
    window.clearTimeout(this.pongTimer)
    window.clearTimeout(this.pingTimer)
  }

  /** Abandon the current socket (dead or offline) and go through the reconnect path. */
  private drop(): void {
    const ws = this.ws
    if (!ws) return
    this.ws = null
    ws.onclose = null
    ws.onmessage = null
    try {
      ws.close(4000, 'connection lost')
    } catch {
      // already closing
    }
    this.closed(1006, 'connection lost')
  }

  private wentOffline = (): void => {
    if (this.stopped) return
    this.drop()
    window.clearTimeout(this.retryTimer)
    this.setState('offline')
  }

  private cameOnline = (): void => {
    if (this.stopped || this.ws) return
    this.attempt = 0
    window.clearTimeout(this.retryTimer)
    void this.connect()
  }
}
