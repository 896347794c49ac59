// The room's two collaborative documents, the whiteboard and the notes: their editors,
// their Yjs connections (one join token each, refreshed before it expires), reloading a
// document the server refused an edit of, and read-only mode from the room's grants.

import * as api from '../api'
import { RoomDoc, roomAccess } from '../collab'
import { colorFor, toast } from '../dom'
import { t } from '../i18n'
import { NotesEditor } from '../notes'
import { Whiteboard } from '../whiteboard/board'
import { BoardModel } from '../whiteboard/model'
import type { RoomModel } from './model'

export class RoomDocs {
  board: Whiteboard | null = null
  notes: NotesEditor | null = null
  boardDoc: RoomDoc | null = null
  notesDoc: RoomDoc | null = null
  /** The documents being reloaded after the server refused an edit. */
  private readonly resyncing = new Set<'whiteboard' | 'notes'>()

  constructor(
    private readonly roomId: string,
    private readonly user: api.User,
  ) {}

  /** Make the editors (once the room's layout is built). */
  mount(title: () => string): { board: Whiteboard; notes: NotesEditor } {
    const board = (this.board = new Whiteboard())
    const notes = (this.notes = new NotesEditor(title))
    return { board, notes }
  }

  /** Connect the documents, or hand the open ones the newest join token. */
  open(join: api.JoinInfo): void {
    if (!this.boardDoc) this.openBoard(join)
    else this.boardDoc.setToken(join.token)
    if (!this.notesDoc) this.openNotes(join)
    else this.notesDoc.setToken(join.token)
  }

  /** A fresh join token for both documents (they reconnect with it). */
  async refreshTokens(): Promise<void> {
    try {
      const join = await api.rooms.join(this.roomId)
      this.boardDoc?.setToken(join.token)
      this.notesDoc?.setToken(join.token)
    } catch {
      // the room channel notices real problems itself
    }
  }

  close(): void {
    this.board?.destroy()
    this.boardDoc?.destroy()
    this.notes?.destroy()
    this.notesDoc?.destroy()
    this.board = null
    this.boardDoc = null
    this.notes = null
    this.notesDoc = null
  }

  /** Read-only editors when the role or the room's locks take the write grants away. */
  setAccess(model: RoomModel): void {
    const locked = model.room.settings
    const boardReason = model.me.role === 'observer' ? t('docs.observerWatch') : locked.whiteboard_locked ? t('docs.boardLocked') : ''
    this.board?.setReadOnly(!model.can('whiteboard_write'), boardReason)
    const notesReason = model.me.role === 'observer' ? t('docs.observerRead') : locked.notes_locked ? t('docs.notesLocked') : ''
    this.notes?.setReadOnly(!model.can('notes_write'), notesReason)
  }

  private person(): { id: string; name: string; color: string; colorLight: string } {
    const color = colorFor(this.user.id)
    return { id: this.user.id, name: this.user.name, color, colorLight: color.replace('40%)', '85%)') }
  }

  private openNotes(join: api.JoinInfo): void {
    this.notesDoc = new RoomDoc(roomAccess(join, 'notes'), 'notes', this.person(), {
      denied: () => this.denied('notes'),
      stopped: (code) => stopped('notes', code),
      token: async () => (await api.rooms.join(this.roomId)).token,
    })
    this.notes?.attach(this.notesDoc)
  }

  private openBoard(join: api.JoinInfo): void {
    // Busy until the first sync: assistive technology (and tests) know the board is loading.
    this.board?.root.setAttribute('aria-busy', 'true')
    this.boardDoc = new RoomDoc(roomAccess(join, 'whiteboard'), 'whiteboard', this.person(), {
      denied: () => this.denied('whiteboard'),
      stopped: (code) => stopped('whiteboard', code),
      token: async () => (await api.rooms.join(this.roomId)).token,
      status: (connected) => this.board?.root.classList.toggle('disconnected', !connected),
      synced: () => this.board?.root.setAttribute('aria-busy', 'false'),
    })
    this.board?.attach(new BoardModel(this.boardDoc.doc, this.user.id), this.boardDoc.provider.awareness)
  }

  /** The server refused our edit of ``kind``: drop local changes by reloading that document. */
  private denied(kind: 'whiteboard' | 'notes'): void {
    if (this.resyncing.has(kind)) return
    this.resyncing.add(kind)
    toast(t(kind === 'notes' ? 'docs.notesDenied' : 'docs.boardDenied'), 'error')
    window.setTimeout(async () => {
      try {
        const join = await api.rooms.join(this.roomId)
        if (kind === 'notes') {
          this.notesDoc?.destroy()
          this.notesDoc = null
          this.openNotes(join)
        } else {
          this.boardDoc?.destroy()
          this.boardDoc = null
          this.openBoard(join)
        }
      } catch {
        // the room channel will report what went wrong
      } finally {
        this.resyncing.delete(kind)
      }
    }, 300)
  }
}

function stopped(kind: 'whiteboard' | 'notes', code: number): void {
  if (code === 4004) toast(t(kind === 'notes' ? 'docs.notesDeleted' : 'docs.boardDeleted'), 'info')
}
