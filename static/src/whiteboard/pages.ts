// The whiteboard's page tabs: switch page, and (for those who may draw) add or delete one.
// The tabs are a WAI-ARIA tablist (arrow keys move between them); the add and delete
// buttons sit beside it.

import { fill, h, tablistKeys } from '../dom'
import { t } from '../i18n'
import { DEFAULT_PAGE } from './model'
import type { BoardState } from './state'

export class PagesBar {
  readonly root: HTMLElement
  private readonly tabs: HTMLElement
  private readonly buttons: HTMLElement

  /** ``open(page)`` switches the board to ``page``. */
  constructor(
    private readonly state: BoardState,
    private readonly open: (page: string) => void,
  ) {
    this.tabs = h('div.board-page-tabs', { role: 'tablist', 'aria-label': t('whiteboard.pages') })
    tablistKeys(this.tabs)
    this.buttons = h('div.board-page-actions')
    this.root = h('div.board-pages', null, this.tabs, this.buttons)
  }

  /** Draw the tabs; a current page that no longer exists falls back to the default one. */
  draw(): void {
    const state = this.state
    const model = state.model
    if (!model) return
    const pages = model.pageList()
    if (!pages.some((p) => p.id === state.page)) state.page = DEFAULT_PAGE
    const hadFocus = this.tabs.contains(document.activeElement)
    fill(
      this.tabs,
      pages.map((page) => {
        const current = page.id === state.page
        return h('button.page-tab', { type: 'button', role: 'tab', 'aria-selected': String(current), tabindex: current ? 0 : -1, onclick: () => this.open(page.id) }, page.name)
      }),
    )
    if (hadFocus) this.tabs.querySelector<HTMLElement>('[aria-selected="true"]')?.focus()
    fill(
      this.buttons,
      state.readOnly ? null : h('button', { type: 'button', 'aria-label': t('whiteboard.page.add'), title: t('whiteboard.page.add'), onclick: () => this.open(model.addPage()) }, t('whiteboard.page.addShort')),
      state.readOnly || state.page === DEFAULT_PAGE
        ? null
        : h(
            'button',
            {
              type: 'button',
              'aria-label': t('whiteboard.page.remove'),
              title: t('whiteboard.page.remove'),
              onclick: () => {
                model.removePage(state.page)
                this.open(DEFAULT_PAGE)
              },
            },
            t('whiteboard.page.removeShort'),
          ),
    )
  }
}
