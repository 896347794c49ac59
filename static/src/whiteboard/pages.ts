// The whiteboard's page tabs: switch page, and (for those who may draw) add or delete one.

import { fill, h } from '../dom'
import { DEFAULT_PAGE } from './model'
import type { BoardState } from './state'

export class PagesBar {
  readonly root: HTMLElement

  /** ``open(page)`` switches the board to ``page``. */
  constructor(
    private readonly state: BoardState,
    private readonly open: (page: string) => void,
  ) {
    this.root = h('div.board-pages', { role: 'tablist', 'aria-label': 'Whiteboard pages' })
  }

  /** Draw the tabs; a current page that no longer exists falls back to the default one. */
  draw(): void {
    const state = this.state
    const model = state.model
    if (!model) return
    const pages = model.pageList()
    if (!pages.some((p) => p.id === state.page)) state.page = DEFAULT_PAGE
    fill(
      this.root,
      pages.map((page) =>
        h(
          'button.page-tab',
          {
            type: 'button',
            role: 'tab',
            'aria-selected': String(page.id === state.page),
            onclick: () => this.open(page.id),
          },
          page.name,
        ),
      ),
      state.readOnly
        ? null
        : h('button', { type: 'button', 'aria-label': 'Add a page', title: 'Add a page', onclick: () => this.open(model.addPage()) }, '+ Page'),
      state.readOnly || state.page === DEFAULT_PAGE
        ? null
        : h(
            'button',
            {
              type: 'button',
              'aria-label': 'Delete this page',
              title: 'Delete this page',
              onclick: () => {
                model.removePage(state.page)
                this.open(DEFAULT_PAGE)
              },
            },
            'Delete page',
          ),
    )
  }
}
