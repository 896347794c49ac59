// A room document (whiteboard or notes) through the stock y-websocket provider.

import * as authProtocol from 'y-protocols/auth'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import type { JoinInfo } from './api'

export type DocKind = 'whiteboard' | 'notes'

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

  constructor(
    join: JoinInfo,
    readonly kind: DocKind,
    person: Person,
    private readonly handlers: DocHandlers,
  ) {
    const entry = join.documents.find((d) => d.name.endsWith(`/${kind}`))
    this.name = entry?.name ?? `rooms/${join.room_id}/${kind}`
    const url = entry?.url ?? `${location.origin.replace(/^http/, 'ws')}/yjs/${this.name}`
    const serverUrl = url.slice(0, url.length - this.name.length - 1)
    this.provider = new WebsocketProvider(serverUrl, this.name, this.doc, {
      params: { token: join.token },
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
      } else if (code === 4001) {
        this.provider.shouldConnect = false
        void this.reauthorize()
      }
    })
    this.provider.on('status', ({ status }) => this.handlers.status?.(status === 'connected'))
    this.provider.on('sync', (synced: boolean) => {
      if (synced) this.handlers.synced?.()
    })
  }

  /** Use ``token`` for the next (re)connection. */
  setToken(token: string): void {
    this.provider.params.token = token
  }

  private async reauthorize(): Promise<void> {
    try {
      this.setToken(await this.handlers.token())
      this.provider.connect()
    } catch {
      this.handlers.stopped(4001, 'could not renew the join token')
    }
  }

  destroy(): void {
    this.provider.awareness.setLocalState(null)
    this.provider.destroy()
    this.doc.destroy()
  }
}
