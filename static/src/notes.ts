// Shared notes: CodeMirror 6 editing Markdown in the Y.Text `notes` of the room's notes
// document (docs/protocol.md), bound with y-codemirror.next (collaborators' cursors and
// selections come from awareness). Markdown export is the text itself.

import { defaultKeymap } from '@codemirror/commands'
import { defineLanguageFacet, HighlightStyle, Language, LanguageSupport, syntaxHighlighting } from '@codemirror/language'
import { Compartment, EditorState } from '@codemirror/state'
import { drawSelection, EditorView, keymap, placeholder } from '@codemirror/view'
import { tags } from '@lezer/highlight'
import { GFM, parser as markdownParser } from '@lezer/markdown'
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'
import * as Y from 'yjs'
import type { RoomDoc } from './collab'
import { download, fill, h, Roving } from './dom'
import { t } from './i18n'

// Markdown straight from @lezer/markdown (with GitHub's extensions: tables, task lists,
// strikethrough); @codemirror/lang-markdown would add HTML, CSS and JavaScript parsers.
const markdownLanguage = new Language(defineLanguageFacet(), markdownParser.configure(GFM), [], 'markdown')
const markdown = (): LanguageSupport => new LanguageSupport(markdownLanguage)

const style = HighlightStyle.define([
  { tag: tags.heading1, fontSize: '1.6em', fontWeight: '700' },
  { tag: tags.heading2, fontSize: '1.35em', fontWeight: '700' },
  { tag: tags.heading3, fontSize: '1.15em', fontWeight: '700' },
  { tag: [tags.heading4, tags.heading5, tags.heading6], fontWeight: '700' },
  { tag: tags.strong, fontWeight: '700' },
  { tag: tags.emphasis, fontStyle: 'italic' },
  { tag: tags.strikethrough, textDecoration: 'line-through' },
  { tag: tags.link, color: '#1d4ed8', textDecoration: 'underline' },
  { tag: tags.url, color: '#1d4ed8' },
  { tag: tags.monospace, fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', backgroundColor: '#f1f5f9' },
  { tag: tags.quote, color: '#475569', fontStyle: 'italic' },
  { tag: [tags.processingInstruction, tags.meta], color: '#94a3b8' },
  { tag: tags.list, color: '#0f766e' },
])

type Format = { label: string; text: string; title: string; apply: (view: EditorView) => void }

function wrapSelection(before: string, after = before, fallback = 'text'): (view: EditorView) => void {
  return (view) => {
    view.dispatch(
      view.state.changeByRange((range) => {
        const selected = view.state.sliceDoc(range.from, range.to) || fallback
        const insert = before + selected + after
        return {
          changes: { from: range.from, to: range.to, insert },
          range: { anchor: range.from + before.length, head: range.from + before.length + selected.length } as never,
        }
      }),
    )
    view.focus()
  }
}

function prefixLines(prefix: string | ((i: number) => string)): (view: EditorView) => void {
  return (view) => {
    const changes: { from: number; insert: string }[] = []
    const seen = new Set<number>()
    for (const range of view.state.selection.ranges) {
      const first = view.state.doc.lineAt(range.from).number
      const last = view.state.doc.lineAt(range.to).number
      for (let n = first, i = 0; n <= last; n++, i++) {
        if (seen.has(n)) continue
        seen.add(n)
        changes.push({ from: view.state.doc.line(n).from, insert: typeof prefix === 'string' ? prefix : prefix(i) })
      }
    }
    view.dispatch({ changes })
    view.focus()
  }
}

/** The formatting buttons, in the message language (read when an editor is made). */
function formats(): Format[] {
  return [
    { label: 'B', title: t('notes.bold.title'), text: t('notes.bold'), apply: wrapSelection('**') },
    { label: 'I', title: t('notes.italic.title'), text: t('notes.italic'), apply: wrapSelection('_') },
    { label: 'S', title: t('notes.strike'), text: t('notes.strike'), apply: wrapSelection('~~') },
    { label: 'H1', title: t('notes.h1.title'), text: t('notes.h1'), apply: prefixLines('# ') },
    { label: 'H2', title: t('notes.h2.title'), text: t('notes.h2'), apply: prefixLines('## ') },
    { label: '•', title: t('notes.bullets'), text: t('notes.bullets'), apply: prefixLines('- ') },
    { label: '1.', title: t('notes.numbers'), text: t('notes.numbers'), apply: prefixLines((i) => `${i + 1}. `) },
    { label: '☐', title: t('notes.checklist'), text: t('notes.checklist'), apply: prefixLines('- [ ] ') },
    { label: '❝', title: t('notes.quote'), text: t('notes.quote'), apply: prefixLines('> ') },
    { label: '</>', title: t('notes.code'), text: t('notes.code'), apply: wrapSelection('`') },
    { label: '🔗', title: t('notes.link'), text: t('notes.link'), apply: wrapSelection('[', '](https://)', t('notes.linkText')) },
  ]
}

/** What the editor calls itself (a course page's editor is not the room's notes). */
export interface EditorLabels {
  region: string
  editor: string
  placeholder: string
}

function notesLabels(): EditorLabels {
  return { region: t('notes.region'), editor: t('notes.editor'), placeholder: t('notes.placeholder') }
}

export class NotesEditor {
  readonly root: HTMLElement
  private view: EditorView | null = null
  private readonly editable = new Compartment()
  private readonly host: HTMLElement
  private readonly status: HTMLElement
  private readonly toolbar: HTMLElement
  private readOnly = false
  private reason = ''
  private text: Y.Text | null = null
  private undoManager: Y.UndoManager | null = null

  constructor(
    private readonly title: () => string,
    private readonly labels: EditorLabels = notesLabels(),
  ) {
    this.host = h('div.notes-editor')
    this.status = h('div.board-status', { role: 'status', 'aria-live': 'polite' })
    this.toolbar = h('div.board-toolbar', { role: 'toolbar', 'aria-label': t('notes.toolbar') })
    for (const format of formats()) {
      this.toolbar.appendChild(
        h(
          'button.tool',
          {
            type: 'button',
            title: format.title,
            onmousedown: (event: Event) => event.preventDefault(),
            onclick: () => {
              if (this.view && !this.readOnly) format.apply(this.view)
            },
          },
          // The name is the spelled-out format; the short label is what is shown.
          h('span', { 'aria-hidden': 'true' }, format.label),
          h('span.sr-only', null, format.text),
        ),
      )
    }
    this.toolbar.append(
      h('span.sep', { 'aria-hidden': 'true' }),
      h('button', { type: 'button', 'aria-label': t('notes.undo'), title: t('notes.undo.title'), onclick: () => this.undoManager?.undo() }, '↶'),
      h('button', { type: 'button', 'aria-label': t('notes.redo'), title: t('notes.redo.title'), onclick: () => this.undoManager?.redo() }, '↷'),
      h('span.sep', { 'aria-hidden': 'true' }),
      h('button', { type: 'button', onclick: () => this.exportMarkdown() }, h('span', { 'aria-hidden': 'true' }, t('notes.export')), h('span.sr-only', null, t('notes.export.name'))),
    )
    // The toolbar is one Tab stop; the arrow keys move between its buttons.
    new Roving(this.toolbar).sync()
    this.root = h('section.notes', { 'aria-label': this.labels.region }, this.toolbar, this.status, this.host)
  }

  attach(doc: RoomDoc): void {
    this.view?.destroy()
    this.undoManager?.destroy()
    this.text = doc.doc.getText('notes')
    this.undoManager = new Y.UndoManager(this.text)
    const state = EditorState.create({
      doc: this.text.toString(),
      extensions: [
        keymap.of([...yUndoManagerKeymap, ...defaultKeymap, { key: 'Mod-b', run: (v) => (wrapSelection('**')(v), true) }, { key: 'Mod-i', run: (v) => (wrapSelection('_')(v), true) }]),
        drawSelection(),
        EditorView.lineWrapping,
        markdown(),
        syntaxHighlighting(style),
        placeholder(this.labels.placeholder),
        EditorView.contentAttributes.of({ 'aria-label': this.labels.editor, 'aria-multiline': 'true' }),
        this.editable.of(this.editableExtensions()),
        yCollab(this.text, doc.provider.awareness, { undoManager: this.undoManager }),
      ],
    })
    this.view = new EditorView({ state, parent: this.host })
  }

  private editableExtensions(): ReturnType<typeof EditorState.readOnly.of>[] {
    return [EditorState.readOnly.of(this.readOnly), EditorView.editable.of(!this.readOnly)]
  }

  setReadOnly(readOnly: boolean, reason = ''): void {
    this.readOnly = readOnly
    this.reason = reason
    this.root.classList.toggle('read-only', readOnly)
    for (const button of this.toolbar.querySelectorAll<HTMLButtonElement>('button.tool')) button.disabled = readOnly
    this.view?.dispatch({ effects: this.editable.reconfigure(this.editableExtensions()) })
    fill(this.status, readOnly ? h('span.badge.warn', { 'data-testid': 'notes-readonly' }, t('notes.readOnly', { reason: this.reason })) : null)
  }

  markdown(): string {
    return this.text?.toString() ?? ''
  }

  exportMarkdown(): void {
    const name = this.title().replace(/[^\w-]+/g, '-').replace(/^-|-$/g, '') || 'notes'
    download(`${name}-notes.md`, this.markdown(), 'text/markdown')
  }

  focus(): void {
    this.view?.focus()
  }

  destroy(): void {
    this.view?.destroy()
    this.undoManager?.destroy()
    this.view = null
  }
}
