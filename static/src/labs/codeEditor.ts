// A code file of a lab workspace: CodeMirror 6 bound to the file's Y.Text (root
// `file:{name}`) with y-codemirror.next over the stock y-websocket provider, so everyone
// in the workspace (the learner, an instructor helping) sees the others' cursors.

import { defaultKeymap, indentWithTab } from '@codemirror/commands'
import { Compartment, EditorState } from '@codemirror/state'
import { drawSelection, EditorView, keymap, lineNumbers } from '@codemirror/view'
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'
import * as Y from 'yjs'
import type { RoomDoc } from '../collab'
import { h } from '../dom'

export class CodeEditor {
  readonly root: HTMLElement
  private view: EditorView | null = null
  private undo: Y.UndoManager | null = null
  private readonly editable = new Compartment()
  private readOnly = false
  text: Y.Text | null = null

  constructor(private readonly label: string) {
    this.root = h('div.code-editor', { 'data-testid': 'code-editor' })
  }

  /** Show file ``name`` of ``doc``. */
  attach(doc: RoomDoc, name: string): void {
    this.view?.destroy()
    this.undo?.destroy()
    this.text = doc.doc.getText(`file:${name}`)
    this.undo = new Y.UndoManager(this.text)
    const state = EditorState.create({
      doc: this.text.toString(),
      extensions: [
        keymap.of([...yUndoManagerKeymap, indentWithTab, ...defaultKeymap]),
        lineNumbers(),
        EditorView.lineWrapping,
        drawSelection(),
        EditorView.contentAttributes.of({ 'aria-label': `${this.label}: ${name}`, 'aria-multiline': 'true', spellcheck: 'false' }),
        this.editable.of(this.extensions()),
        yCollab(this.text, doc.provider.awareness, { undoManager: this.undo }),
      ],
    })
    this.view = new EditorView({ state, parent: this.root })
  }

  private extensions(): ReturnType<typeof EditorState.readOnly.of>[] {
    return [EditorState.readOnly.of(this.readOnly), EditorView.editable.of(!this.readOnly)]
  }

  setReadOnly(readOnly: boolean): void {
    this.readOnly = readOnly
    this.root.classList.toggle('read-only', readOnly)
    this.view?.dispatch({ effects: this.editable.reconfigure(this.extensions()) })
  }

  code(): string {
    return this.text?.toString() ?? ''
  }

  /** Insert ``snippet`` at the cursor (or the end), as the learner's own edit. */
  insert(snippet: string): void {
    if (!this.view || this.readOnly) return
    const at = this.view.state.selection.main.head
    this.view.dispatch({ changes: { from: at, insert: snippet }, selection: { anchor: at + snippet.length } })
    this.view.focus()
  }

  destroy(): void {
    this.view?.destroy()
    this.undo?.destroy()
    this.view = null
  }
}
