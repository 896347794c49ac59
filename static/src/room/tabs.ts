// A set of tabs (WAI-ARIA tablist) over panels: the stage's whiteboard and notes, and the
// side's chat, people, polls, breakouts and host panels.

import { h, tablistKeys } from '../dom'

export class TabSet<T extends string> {
  readonly list: HTMLElement
  readonly body: HTMLElement
  readonly tabs = new Map<T, HTMLButtonElement>()
  private readonly panels = new Map<T, HTMLElement>()

  /** ``kind`` names the classes (``stage`` or ``side``); ``pick`` runs when a tab is clicked. */
  constructor(kind: 'stage' | 'side', label: string, entries: [T, string, HTMLElement][], pick: (id: T) => void) {
    this.list = h('div.tabs', { role: 'tablist', 'aria-label': label })
    this.body = h(`div.${kind}-body`)
    for (const [id, title, panel] of entries) {
      const tab = h('button.tab', { type: 'button', role: 'tab', id: `tab-${id}`, 'aria-controls': `panel-${id}`, onclick: () => pick(id) }, title)
      const wrapper = h(`div.${kind}-panel`, { role: 'tabpanel', id: `panel-${id}`, 'aria-labelledby': `tab-${id}` }, panel)
      this.tabs.set(id, tab)
      this.panels.set(id, wrapper)
      this.list.appendChild(tab)
      this.body.appendChild(wrapper)
    }
    tablistKeys(this.list)
  }

  /** Show one panel and mark its tab selected (the others leave the tab order). */
  select(selected: T): void {
    for (const [id, button] of this.tabs) {
      button.setAttribute('aria-selected', String(id === selected))
      button.tabIndex = id === selected ? 0 : -1
    }
    for (const [id, panel] of this.panels) panel.hidden = id !== selected
  }
}
