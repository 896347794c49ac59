// A live document (a room's whiteboard or notes, a course page's body) through the stock
// y-websocket provider.

import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as authProtocol from 'y-protocols/auth'
import * as syncProtocol from 'y-protocols/sync'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { ApiError, type JoinInfo } from './api'

export type DocKind = 'whiteboard' | 'notes' | 'page'

/** Where a document lives and the token that opens it. */
export interface DocAccess {
  name: string
  /** The Yjs channel's base address (``…/yjs``); the document name follows it. */
  url: string
  token: string
}

/** A room document's access, from the room's join answer. */
export function roomAccess(join: JoinInfo, kind: 'whiteboard' | 'notes'): DocAccess {
  const entry = join.documents.find((d) => d.name.endsWith(`/${kind}`))
  const name = entry?.name ?? `rooms/${join.room_id}/${kind}`
  const url = entry?.url ?? `${location.origin.replace(/^http/, 'ws')}/yjs/${name}`
  return { name, url: url.slice(0, url.length - name.length - 1), token: join.token }
}

/** Closes after which the provider must not reconnect on its own (docs/protocol.md). */
const STOP_CODES = [1002, 1003, 1009, 4003, 4004, 4010, 4030]

export interface DocHandlers {
  /** The server refused an update: this connection is read-only. */
  denied(reason: string): void
  /** The connection is down for good (document deleted, removed, class ended…). */
  stopped(code: number, reason: string): void
  /** A fresh join token, for reconnecting after the old one expired. */
  token(): Promise<string>
  status?(connected: boolean): void
  synced?(): void
  /** Ask ``token()`` before every reconnection, not only after a 4001 (short-lived tokens:
   * a page editor's last ten minutes, so a connection dropped later needs a new one). */
  freshTokenOnReconnect?: boolean
}

export interface Person {
  id: string
  name: string
  color: string
}

export class RoomDoc {
  readonly doc = new Y.Doc()
  readonly provider: WebsocketProvider
  readonly name: string
  private renewals = 0
  private destroyed = false

  constructor(
    access: DocAccess,
    readonly kind: DocKind,
    person: Person,
    private readonly handlers: DocHandlers,
  ) {
    this.name = access.name
    this.provider = new WebsocketProvider(access.url, this.name, this.doc, {
      params: { token: access.token },
      disableBc: true, // the server is the authority: no tab-to-tab shortcut around it
      maxBackoffTime: 5000,
    })
    this.provider.awareness.setLocalStateField('user', { id: person.id, name: person.name, color: person.color })
    // The stock client only logs a permission-denied auth message; show it instead.
    this.provider.messageHandlers[2] = (_encoder, decoder) => {
      authProtocol.readAuthMessage(decoder, this.doc, (_doc, reason) => this.handlers.denied(reason))
    }
    this.provider.on('connection-close', (event) => {
      const code = event?.code ?? 1006
      if (STOP_CODES.includes(code)) {
        this.provider.shouldConnect = false
        this.handlers.stopped(code, event?.reason ?? '')
      } else if (code === 4001 || (this.handlers.freshTokenOnReconnect && this.provider.shouldConnect)) {
        this.provider.shouldConnect = false
        void this.reauthorize(code === 4001)
      }
    })
    this.provider.on('status', ({ status }) => {
      if (status === 'connected') this.renewals = 0
      this.handlers.status?.(status === 'connected')
    })
    this.provider.on('sync', (synced: boolean) => {
      if (synced) this.handlers.synced?.()
    })
  }

  /** Use ``token`` for the next (re)connection. */
  setToken(token: string): void {
    this.provider.params.token = token
  }

  /** A fresh token, then connect again. A refusal (4xx) stops; an unreachable server is
   * asked again with growing waits. After a 4001 the first failure stops at once. */
  private async reauthorize(refused: boolean): Promise<void> {
    const attempt = this.renewals++
    if (attempt > 0) await new Promise((resolve) => window.setTimeout(resolve, Math.min(2 ** attempt * 250, 10_000)))
    if (this.destroyed) return
    try {
      this.setToken(await this.handlers.token())
    } catch (error) {
      const status = error instanceof ApiError ? error.status : 0
      if (refused || (status >= 400 && status < 500)) {
        this.handlers.stopped(4001, error instanceof ApiError ? error.readable : 'could not renew the token')
      } else {
        void this.reauthorize(false)
      }
      return
    }
    if (!this.destroyed) this.provider.connect()
  }

  /** Resolves once the server has answered a sync request sent now, so every edit sent
   * before it has reached the server (or after ``timeout`` ms, or at once when offline). */
  flushed(timeout = 3000): Promise<void> {
    const ws = this.provider.ws
    if (!ws || !this.provider.wsconnected) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        ws.removeEventListener('message', onMessage)
        window.clearTimeout(timer)
        resolve()
      }
      const onMessage = (event: MessageEvent): void => {
        if (!(event.data instanceof ArrayBuffer)) return
        const decoder = decoding.createDecoder(new Uint8Array(event.data))
        if (decoding.readVarUint(decoder) === 0 && decoding.readVarUint(decoder) === syncProtocol.messageYjsSyncStep2) done()
      }
      const timer = window.setTimeout(done, timeout)
      ws.addEventListener('message', onMessage)
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, 0)
      syncProtocol.writeSyncStep1(encoder, this.doc)
      ws.send(encoding.toUint8Array(encoder))
    })
  }

  destroy(): void {
    this.destroyed = true
    this.provider.awareness.setLocalState(null)
    this.provider.destroy()
    this.doc.destroy()
  }
}
