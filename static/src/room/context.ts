// What the room's panels share: the model, the connection and a few actions.

import type { User } from '../api'
import { toast } from '../dom'
import type { Navigate } from '../main'
import { CommandError, type RoomConnection } from './connection'
import type { RoomModel } from './model'
import type { Ack, ClientMessage } from './protocol.gen'

export interface RoomContext {
  roomId: string
  user: User
  model: RoomModel
  conn: RoomConnection
  navigate: Navigate
  /** Open the chat, addressed to ``to`` (a user id, "hosts" or "" for everyone). */
  openChat(to?: string): void
  /** Switch the side panel. */
  showSide(tab: SideTab): void
}

export type SideTab = 'chat' | 'people' | 'polls' | 'quizzes' | 'breakouts' | 'host' | 'captions'

/** Send a command; show its error as a toast and resolve null instead of throwing. */
export async function run(ctx: RoomContext, message: ClientMessage): Promise<Ack | null> {
  try {
    return await ctx.conn.send(message)
  } catch (error) {
    toast(error instanceof CommandError ? error.message : String(error), 'error')
    return null
  }
}
