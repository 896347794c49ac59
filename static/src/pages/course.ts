// A course's page: for a learner, the course home (progress, what is next, live sessions
// to come) and the modules with their items; for its instructors, the module editor
// (modules and items added, changed, published and reordered by drag and drop or with the
// Move up / Move down buttons, each move announced).

import * as api from '../api'
import { announce, confirmDialog, fill, h, toast } from '../dom'
import { formatDateTime, formatList, formatPercent, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { buyBox } from './pay'
import { payments } from './payApi'
import { assignments } from './assignmentApi'
import { type QuizSettings, authoring } from './authoringApi'
import { topbar } from './shell'

type Content = api.CourseContent

function readable(error: unknown): string {
  return error instanceof api.ApiError ? error.readable : error instanceof Error ? error.message : String(error)
}

/** Where an item opens: its in-app path, or the external address of a link. */
export function itemHref(courseId: string, item: api.Item): string | null {
  if (item.kind === 'page' && item.target_id) return `/courses/${courseId}/pages/${item.target_id}`
  if (item.kind === 'live_session' && item.target_id) return `/rooms/${item.target_id}`
  if (item.kind === 'link' && item.url) return item.url
  if (item.kind === 'video') return `/courses/${courseId}/watch/${item.id}`
  if (item.kind === 'quiz' && item.target_id) return `/courses/${courseId}/quizzes/${item.target_id}`
  if (item.kind === 'assignment' && item.target_id) return `/courses/${courseId}/assignments/${item.target_id}`
  return null
}

/** The status of an item for a learner, in words (never colour alone). */
function itemStatus(item: api.Item): HTMLElement | null {
  const progress = item.progress
  if (!progress) return null
  if (progress.completed) return h('span.badge.done', { 'data-testid': 'item-status' }, h('span', { 'aria-hidden': 'true' }, '✓ '), t('course.item.completed'))
  if (progress.watched_share > 0) return h('span.badge', { 'data-testid': 'item-status' }, t('course.item.watched', { percent: formatPercent(progress.watched_share) }))
  if (progress.viewed) return h('span.badge', { 'data-testid': 'item-status' }, t('course.item.viewed'))
  return h('span.badge.muted', { 'data-testid': 'item-status' }, t('course.item.notStarted'))
}

/** Why a module is locked, in the reader's language: its unlock date in their own format,
 * the prerequisites still to complete (by title), or that the course needs an enrolment. */
function lockText(module: api.Module, modules: api.Module[]): string {
  if (module.unlock_at && new Date(module.unlock_at).getTime() > Date.now()) return t('course.module.opens', { when: formatDateTime(module.unlock_at) })
  const open = modules.filter((m) => module.prerequisites.includes(m.id) && m.completed < m.required)
  if (open.length) return t('course.module.requires', { modules: formatList(open.map((m) => m.title)) })
  return module.prerequisites.length ? t('course.module.locked', { reason: module.lock_reason ?? '' }) : t('course.module.enrol')
}

function progressBar(percent: number, label: string): HTMLElement {
  const value = Math.round(percent)
  return h(
    'div.progress-track',
    { role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': value, 'aria-valuetext': t('course.percentDone', { percent: formatPercent(percent / 100) }), 'aria-label': label },
    h('div.progress-fill', { style: `width: ${Math.max(0, Math.min(100, percent))}%` }),
  )
}

export function coursePage(courseId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', null, t('course.title'))
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('course.loading')))
  let course: api.Course | null = null
  let data: Content | null = null
  let home: api.CourseHome | null = null
  let pages: api.ContentPage[] = []
  let files: api.CourseFileSummary[] = []
  let videos: api.CourseVideoSummary[] = []
  let quizzes: QuizSettings[] = []
  /** Disclosures (settings, add item) open before a re-render, by key. */
  const opened = new Set<string>()
  let dragging: { kind: 'item' | 'module'; id: string } | null = null

  const student = (): boolean => course?.my_role === 'student'

  async function load(): Promise<void> {
    try {
      course = await api.content.course(courseId)
      heading.textContent = course.title
      if (course.my_role === null && user.role !== 'admin') {
        const product = await payments.forTarget('course', courseId).catch(() => null)
        if (product) {
          body.setAttribute('aria-busy', 'false')
          fill(body, course.description ? h('p', null, course.description) : null, buyBox(product, t('pay.buyCourse'), navigate))
          return
        }
      }
      data = await api.content.get(courseId)
      if (data.can_edit) {
        ;[pages, files, videos, quizzes] = await Promise.all([api.content.pages(courseId), api.content.files(courseId), api.content.videos(courseId), authoring.quizzes(courseId)])
      }
      else if (course.my_role === 'student') home = await api.content.home(courseId)
      body.setAttribute('aria-busy', 'false')
      render()
    } catch (error) {
      body.setAttribute('aria-busy', 'false')
      fill(body, h('p.error', { role: 'alert' }, readable(error)))
    }
  }

  function render(focusKey?: string): void {
    if (!data) return
    const links = staffLinks()
    if (data.can_edit) fill(body, links, editor(data))
    else fill(body, links, learnerHome(), learnerModules(data))
    if (focusKey) {
      const target = body.querySelector<HTMLElement>(`[data-focus-key="${focusKey}"]`)
      if (target && !(target as HTMLButtonElement).disabled) target.focus()
    }
  }

  function staffLinks(): HTMLElement | null {
    const role = course?.my_role
    const staff = role === 'instructor' || role === 'ta' || (role === null && user.role === 'admin')
    if (!staff) return null
    return h(
      'nav.row.wrap',
      { 'aria-label': t('course.staffNav') },
      h('a.button', { href: `/courses/${courseId}/progress`, 'data-link': '' }, t('course.progressLink')),
      h('a.button', { href: `/courses/${courseId}/cohorts`, 'data-link': '' }, t('cohorts.link')),
      h('a.button', { href: `/courses/${courseId}/labs`, 'data-link': '' }, t('labs.link')),
      h('a.button', { href: `/courses/${courseId}/gradebook`, 'data-link': '' }, t('gradebook.link')),
      h('a.button', { href: `/courses/${courseId}/files`, 'data-link': '' }, t('course.filesLink')),
      h('a.button', { href: `/courses/${courseId}/questions`, 'data-link': '' }, t('course.authoringLink')),
    )
  }

  // ---- the learner's view ----

  function openItem(item: api.Item, locked: boolean, label?: string): HTMLElement {
    const href = locked ? null : itemHref(courseId, item)
    const text = label ?? item.title
    if (item.kind === 'file' && item.file_id !== null && !locked) {
      const fileId = item.file_id
      return h(
        'button.link.item-title',
        {
          type: 'button',
          onclick: async () => {
            try {
              const link = await api.content.fileLink(fileId)
              if (student()) await api.content.record(item.id, 'view').catch(() => undefined)
              window.location.assign(link.url)
            } catch (error) {
              toast(readable(error), 'error')
            }
          },
        },
        text,
        h('span.sr-only', null, t('course.download')),
      )
    }
    if (!href) return h('span.item-title', null, text)
    if (item.kind === 'link') {
      return h(
        'a.item-title',
        {
          href,
          target: '_blank',
          rel: 'noopener noreferrer',
          onclick: () => {
            if (!student()) return
            void api.content.record(item.id, 'view').then(() => load()).catch(() => undefined)
          },
        },
        text,
        h('span.sr-only', null, t('course.newTab')),
      )
    }
    return h('a.item-title', { href, 'data-link': '' }, text)
  }

  function learnerHome(): HTMLElement | null {
    if (!home || !data) return null
    const next = home.next
    return h(
      'section.card.stack',
      { 'aria-labelledby': 'course-home-title' },
      h('h2#course-home-title', null, t('course.home.heading')),
      progressBar(home.percent, t('course.home.progress')),
      h('p', { 'data-testid': 'course-percent' }, t('course.percentDone', { percent: formatPercent(home.percent / 100) })),
      course?.my_role === 'student'
        ? h(
            'p.row.wrap',
            null,
            h('a', { href: `/courses/${courseId}/grades`, 'data-link': '' }, t('gradebook.myLink')),
            h('a', { href: `/courses/${courseId}/cohorts`, 'data-link': '' }, t('cohorts.link')),
            h('a', { href: `/courses/${courseId}/labs`, 'data-link': '' }, t('labs.link')),
          )
        : null,
      next
        ? h(
            'p',
            null,
            itemHref(courseId, next.item)
              ? (() => {
                  const link = openItem(next.item, false, t('course.home.continue', { title: next.item.title }))
                  link.classList.add('button', 'primary')
                  return link
                })()
              : h('span', null, t('course.home.continue', { title: next.item.title })),
          )
        : h('p', null, t('course.home.allDone')),
      home.upcoming.length
        ? h(
            'div.stack',
            null,
            h('h3', null, t('course.home.upcoming')),
            h(
              'ul.plain.stack',
              null,
              home.upcoming.map((entry) =>
                h(
                  'li',
                  null,
                  h('a', { href: `/rooms/${entry.item.target_id}`, 'data-link': '' }, entry.item.title),
                  entry.item.starts_at ? h('span.muted.small', null, ` · ${formatDateTime(entry.item.starts_at)}`) : null,
                ),
              ),
            ),
          )
        : null,
    )
  }

  function learnerModules(content: Content): HTMLElement {
    return h(
      'section.stack',
      { 'aria-labelledby': 'modules-title' },
      h('h2#modules-title', null, t('course.modules')),
      content.modules.length
        ? content.modules.map((module) =>
            h(
              'section.card.stack.module',
              { 'data-module-id': module.id, 'aria-labelledby': `module-${module.id}` },
              h(
                'div.row.wrap.between',
                null,
                h('h3', { id: `module-${module.id}` }, module.title),
                module.required ? h('span.small.muted', null, t('course.module.done', { done: module.completed, total: module.required })) : null,
              ),
              module.locked
                ? h('p.lock', { 'data-testid': 'lock-reason' }, h('span', { 'aria-hidden': 'true' }, '🔒 '), lockText(module, content.modules))
                : null,
              module.items.length
                ? h(
                    'ul.plain.items',
                    { 'aria-label': t('course.module.items', { title: module.title }) },
                    module.items.map((item) =>
                      h(
                        'li.item-row',
                        { 'data-item-id': item.id },
                        h('span.badge.kind', null, t(`course.kind.${item.kind}`)),
                        openItem(item, module.locked),
                        item.kind === 'live_session' && item.starts_at ? h('span.small.muted', null, formatDateTime(item.starts_at)) : null,
                        itemStatus(item),
                      ),
                    ),
                  )
                : h('p.muted', null, t('course.module.empty')),
            ),
          )
        : h('p.muted', null, t('course.none')),
    )
  }

  // ---- the module editor ----

  async function change(work: () => Promise<unknown>, message?: string, focusKey?: string): Promise<void> {
    try {
      await work()
      data = await api.content.get(courseId)
      pages = await api.content.pages(courseId)
      if (data.can_edit) quizzes = await authoring.quizzes(courseId)
      render(focusKey)
      if (message) announce(message)
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  async function moveItem(item: api.Item, moduleId: string, position: number, focusKey?: string): Promise<void> {
    try {
      data = await api.content.moveItem(item.id, moduleId, position)
      render(focusKey)
      const module = data.modules.find((m) => m.id === moduleId)
      if (module) {
        const index = module.items.findIndex((i) => i.id === item.id)
        announce(t('course.moved', { title: item.title, position: index + 1, count: module.items.length, module: module.title }))
      }
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  async function moveModule(module: api.Module, to: number, focusKey?: string): Promise<void> {
    if (!data) return
    const ids = data.modules.map((m) => m.id).filter((id) => id !== module.id)
    ids.splice(to, 0, module.id)
    try {
      data = await api.content.orderModules(courseId, ids)
      render(focusKey)
      announce(t('course.movedModule', { title: module.title, position: to + 1, count: ids.length }))
    } catch (error) {
      toast(readable(error), 'error')
    }
  }

  /** Keyboard moves: up and down inside a module, over its edge into the next one. */
  function step(item: api.Item, delta: -1 | 1): void {
    if (!data) return
    const modules = data.modules
    const m = modules.findIndex((x) => x.id === item.module_id)
    const index = modules[m].items.findIndex((x) => x.id === item.id)
    const key = `${delta < 0 ? 'up' : 'down'}-${item.id}`
    const target = index + delta
    if (target >= 0 && target < modules[m].items.length) void moveItem(item, modules[m].id, target, key)
    else if (delta < 0 && m > 0) void moveItem(item, modules[m - 1].id, modules[m - 1].items.length, key)
    else if (delta > 0 && m < modules.length - 1) void moveItem(item, modules[m + 1].id, 0, key)
  }

  function disclosure(key: string, summary: string, content: HTMLElement): HTMLElement {
    const details = h('details.disclosure', { open: opened.has(key), ontoggle: () => (details.open ? opened.add(key) : opened.delete(key)) }, h('summary', { 'data-focus-key': `summary-${key}` }, summary), content)
    return details
  }

  function editor(content: Content): HTMLElement {
    const title = h('input', { id: 'new-module-title', required: true, maxlength: 200, autocomplete: 'off', 'data-focus-key': 'new-module-title' })
    const addModule = h(
      'form.card.stack',
      {
        'aria-labelledby': 'add-module-title',
        onsubmit: (event: Event) => {
          event.preventDefault()
          const name = title.value.trim()
          if (!name) return
          void change(() => api.content.addModule(courseId, { title: name }), t('course.edit.moduleAdded', { title: name }), 'new-module-title')
        },
      },
      h('h2#add-module-title', null, t('course.edit.addModule')),
      h('div.field', null, h('label', { for: 'new-module-title' }, t('course.edit.newModuleTitle')), title),
      h('p.muted.small', null, t('course.edit.draftHint')),
      h('button.primary', { type: 'submit' }, t('course.edit.addModuleSubmit')),
    )
    return h(
      'div.stack',
      null,
      addModule,
      h(
        'section.stack',
        { 'aria-labelledby': 'modules-title' },
        h('h2#modules-title', null, t('course.modules')),
        h('p.muted.small', { id: 'reorder-hint' }, t('course.edit.reorderHint')),
        content.modules.length
          ? h('ol.plain.stack.modules', null, content.modules.map((module, index) => moduleEditor(content, module, index)))
          : h('p.muted', null, t('course.none')),
      ),
      user.role !== 'student' ? disclosure('copy', t('course.copy.title'), copyForm()) : null,
    )
  }

  /** Copy this course into a new draft (platform instructors and admins create courses). */
  function copyForm(): HTMLElement {
    const code = h('input#copy-code', { required: true, maxlength: 40, autocomplete: 'off', 'aria-describedby': 'copy-hint' })
    const title = h('input#copy-title', { required: true, maxlength: 200, autocomplete: 'off', value: course ? t('course.copy.defaultTitle', { title: course.title }) : '' })
    return h(
      'form.stack.copy-course',
      {
        onsubmit: async (event: Event) => {
          event.preventDefault()
          try {
            const copied = await api.content.copyCourse(courseId, code.value.trim(), title.value.trim())
            announce(t('course.copy.done', { title: title.value.trim() }))
            navigate(`/courses/${copied.course_id}`)
          } catch (error) {
            toast(readable(error), 'error')
          }
        },
      },
      h('p.muted.small', { id: 'copy-hint' }, t('course.copy.hint')),
      h('div.field', null, h('label', { for: 'copy-code' }, t('course.copy.code')), code),
      h('div.field', null, h('label', { for: 'copy-title' }, t('course.copy.newTitle')), title),
      h('button', { type: 'submit' }, t('course.copy.submit')),
    )
  }

  function moduleEditor(content: Content, module: api.Module, index: number): HTMLElement {
    const count = content.modules.length
    const head = h(
      'div.row.wrap.module-head',
      {
        draggable: 'true',
        ondragstart: (event: DragEvent) => {
          dragging = { kind: 'module', id: module.id }
          event.dataTransfer?.setData('text/plain', module.title)
          if (event.dataTransfer) event.dataTransfer.effectAllowed = 'move'
        },
        ondragend: () => (dragging = null),
      },
      h('span.handle', { 'aria-hidden': 'true' }, '⠿'),
      h('h3.grow', { id: `module-${module.id}` }, module.title),
      h('span.badge', { class: module.published ? 'badge info' : 'badge warn' }, t(module.published ? 'course.edit.published' : 'course.edit.draft')),
    )
    const actions = h(
      'div.row.wrap',
      null,
      h('button.small', { type: 'button', disabled: index === 0, 'data-focus-key': `mup-${module.id}`, 'aria-label': t('course.edit.moduleUpLabel', { title: module.title }), onclick: () => void moveModule(module, index - 1, index - 1 === 0 ? `mdown-${module.id}` : `mup-${module.id}`) }, t('course.edit.moveUp')),
      h('button.small', { type: 'button', disabled: index === count - 1, 'data-focus-key': `mdown-${module.id}`, 'aria-label': t('course.edit.moduleDownLabel', { title: module.title }), onclick: () => void moveModule(module, index + 1, index + 1 === count - 1 ? `mup-${module.id}` : `mdown-${module.id}`) }, t('course.edit.moveDown')),
      h(
        'button.small',
        {
          type: 'button',
          'data-focus-key': `publish-${module.id}`,
          'aria-label': t(module.published ? 'course.edit.unpublishLabel' : 'course.edit.publishLabel', { title: module.title }),
          onclick: () =>
            void change(
              () => api.content.updateModule(module.id, { published: !module.published }),
              t(module.published ? 'course.edit.unpublished' : 'course.edit.publishedNow', { title: module.title }),
              `publish-${module.id}`,
            ),
        },
        t(module.published ? 'course.edit.unpublish' : 'course.edit.publish'),
      ),
      h(
        'button.small.danger',
        {
          type: 'button',
          'aria-label': t('course.edit.deleteLabel', { title: module.title }),
          onclick: async () => {
            if (!(await confirmDialog(t('course.edit.deleteModule'), t('course.edit.deleteModuleConfirm', { title: module.title }), t('course.edit.delete'), true))) return
            await change(() => api.content.deleteModule(module.id), t('course.edit.deleted', { title: module.title }), 'new-module-title')
          },
        },
        t('course.edit.delete'),
      ),
    )
    const list = h(
      'ul.plain.items.drop-zone',
      {
        'aria-label': t('course.module.items', { title: module.title }),
        'aria-describedby': 'reorder-hint',
        'data-module-id': module.id,
        ondragover: (event: DragEvent) => {
          if (dragging?.kind !== 'item') return
          event.preventDefault()
          if (event.dataTransfer) event.dataTransfer.dropEffect = 'move'
        },
        ondrop: (event: DragEvent) => {
          if (dragging?.kind !== 'item') return
          event.preventDefault()
          const moving = findItem(dragging.id)
          dragging = null
          if (!moving) return
          // Dropped on a row: before it or after it, by the half it was dropped on.
          const row = (event.target as Element).closest<HTMLElement>('li.item-row')
          const others = module.items.filter((i) => i.id !== moving.id)
          let position = others.length
          if (row?.dataset.itemId && row.dataset.itemId !== moving.id) {
            const at = others.findIndex((i) => i.id === row.dataset.itemId)
            const box = row.getBoundingClientRect()
            position = at + (event.clientY > box.top + box.height / 2 ? 1 : 0)
          } else if (row?.dataset.itemId === moving.id) {
            return
          }
          void moveItem(moving, module.id, position)
        },
      },
      module.items.length ? module.items.map((item, i) => itemEditor(content, module, item, i)) : h('li.empty.muted', null, t('course.edit.dropHere')),
    )
    return h(
      'li.card.stack.module',
      {
        'data-module-id': module.id,
        'aria-labelledby': `module-${module.id}`,
        ondragover: (event: DragEvent) => {
          if (dragging?.kind !== 'module') return
          event.preventDefault()
        },
        ondrop: (event: DragEvent) => {
          if (dragging?.kind !== 'module' || dragging.id === module.id) return
          event.preventDefault()
          const moving = content.modules.find((m) => m.id === dragging?.id)
          dragging = null
          if (moving) void moveModule(moving, index)
        },
      },
      head,
      module.lock_reason || module.unlock_at || module.prerequisites.length ? h('p.small.muted', null, lockSummary(content, module)) : null,
      actions,
      disclosure(`settings-${module.id}`, t('course.edit.settings', { title: module.title }), moduleSettings(content, module, index)),
      list,
      disclosure(`add-${module.id}`, t('course.edit.addItem', { title: module.title }), addItem(module)),
    )
  }

  function lockSummary(content: Content, module: api.Module): string {
    const parts: string[] = []
    if (module.unlock_at) parts.push(t('course.edit.unlocksAt', { when: formatDateTime(module.unlock_at) }))
    const names = module.prerequisites.map((id) => content.modules.find((m) => m.id === id)?.title).filter(Boolean)
    if (names.length) parts.push(t('course.edit.requires', { modules: names.join(', ') }))
    return parts.join(' · ')
  }

  function findItem(id: string): api.Item | null {
    for (const module of data?.modules ?? []) for (const item of module.items) if (item.id === id) return item
    return null
  }

  function moduleSettings(content: Content, module: api.Module, index: number): HTMLElement {
    const id = module.id
    const name = h('input', { id: `title-${id}`, required: true, maxlength: 200, value: module.title })
    const local = module.unlock_at ? toLocalInput(module.unlock_at) : ''
    const unlock = h('input', { id: `unlock-${id}`, type: 'datetime-local', value: local })
    const earlier = content.modules.slice(0, index)
    const boxes = earlier.map((m) => h('input', { type: 'checkbox', id: `pre-${id}-${m.id}`, value: m.id, checked: module.prerequisites.includes(m.id) }))
    return h(
      'form.stack.settings',
      {
        onsubmit: (event: Event) => {
          event.preventDefault()
          const fields: api.ModuleChanges = {
            title: name.value.trim(),
            unlock_at: unlock.value ? new Date(unlock.value).toISOString() : null,
            prerequisites: boxes.filter((b) => b.checked).map((b) => b.value),
          }
          void change(() => api.content.updateModule(id, fields), t('course.edit.saved', { title: fields.title ?? module.title }), `summary-settings-${id}`)
        },
      },
      h('div.field', null, h('label', { for: `title-${id}` }, t('course.edit.moduleTitle')), name),
      h('div.field', null, h('label', { for: `unlock-${id}` }, t('course.edit.unlockAt')), unlock),
      earlier.length
        ? h(
            'fieldset.stack',
            null,
            h('legend', null, t('course.edit.prerequisites')),
            earlier.map((m, i) => h('label.check', { for: `pre-${id}-${m.id}` }, boxes[i], m.title)),
          )
        : null,
      h('button', { type: 'submit' }, t('course.edit.save')),
    )
  }

  function itemEditor(content: Content, module: api.Module, item: api.Item, index: number): HTMLElement {
    const first = index === 0 && content.modules[0]?.id === module.id
    const last = index === module.items.length - 1 && content.modules[content.modules.length - 1]?.id === module.id
    const href = itemHref(courseId, item)
    return h(
      'li.item-row',
      {
        draggable: 'true',
        'data-item-id': item.id,
        ondragstart: (event: DragEvent) => {
          event.stopPropagation()
          dragging = { kind: 'item', id: item.id }
          event.dataTransfer?.setData('text/plain', item.title)
          if (event.dataTransfer) event.dataTransfer.effectAllowed = 'move'
        },
        ondragend: () => (dragging = null),
      },
      h('span.handle', { 'aria-hidden': 'true' }, '⠿'),
      h('span.badge.kind', null, t(`course.kind.${item.kind}`)),
      h('span.item-title.grow', null, item.title),
      item.published ? null : h('span.badge.warn', null, t('course.edit.draft')),
      item.requirement === 'mark_done' ? h('span.badge', null, t('course.edit.markDone')) : null,
      h(
        'span.row.wrap.item-actions',
        null,
        item.kind === 'page' && item.target_id
          ? h('a.button.small', { href: `/courses/${courseId}/pages/${item.target_id}/edit`, 'data-link': '', 'aria-label': t('course.edit.editPageLabel', { title: item.title }) }, t('course.edit.editPage'))
          : item.kind === 'link' && href
            ? h('a.button.small', { href, target: '_blank', rel: 'noopener noreferrer', 'aria-label': t('course.edit.openLinkLabel', { title: item.title }) }, t('course.edit.openLink'))
            : item.kind === 'live_session' && href
              ? h('a.button.small', { href, 'data-link': '', 'aria-label': t('course.edit.openRoomLabel', { title: item.title }) }, t('course.edit.openRoom'))
              : null,
        h('button.small', { type: 'button', disabled: first, 'data-focus-key': `up-${item.id}`, 'aria-label': t('course.edit.upLabel', { title: item.title }), onclick: () => step(item, -1) }, t('course.edit.moveUp')),
        h('button.small', { type: 'button', disabled: last, 'data-focus-key': `down-${item.id}`, 'aria-label': t('course.edit.downLabel', { title: item.title }), onclick: () => step(item, 1) }, t('course.edit.moveDown')),
        h(
          'button.small',
          {
            type: 'button',
            'data-focus-key': `ipub-${item.id}`,
            'aria-label': t(item.published ? 'course.edit.unpublishLabel' : 'course.edit.publishLabel', { title: item.title }),
            onclick: () =>
              void change(
                () => api.content.updateItem(item.id, { published: !item.published }),
                t(item.published ? 'course.edit.unpublished' : 'course.edit.publishedNow', { title: item.title }),
                `ipub-${item.id}`,
              ),
          },
          t(item.published ? 'course.edit.unpublish' : 'course.edit.publish'),
        ),
        h(
          'button.small.danger',
          {
            type: 'button',
            'aria-label': t('course.edit.deleteLabel', { title: item.title }),
            onclick: async () => {
              if (!(await confirmDialog(t('course.edit.deleteItem'), t('course.edit.deleteItemConfirm', { title: item.title }), t('course.edit.delete'), true))) return
              await change(() => api.content.deleteItem(item.id), t('course.edit.deleted', { title: item.title }), `summary-add-${module.id}`)
            },
          },
          t('course.edit.delete'),
        ),
      ),
      disclosure(`item-${item.id}`, t('course.edit.itemSettings', { title: item.title }), itemSettings(item)),
    )
  }

  /** An item's title and completion requirement, changed after it was added. */
  function itemSettings(item: api.Item): HTMLElement {
    const id = item.id
    const title = h('input', { id: `ititle-${id}`, required: true, maxlength: 200, autocomplete: 'off', value: item.title })
    const choices: ('view' | 'mark_done' | 'watch')[] = item.kind === 'video' ? ['view', 'mark_done', 'watch'] : ['view', 'mark_done']
    const requirement = h(
      'select',
      { id: `ireq-${id}` },
      choices.map((r) => h('option', { value: r, selected: r === item.requirement }, t(`course.edit.requirement.${r}`))),
    )
    return h(
      'form.stack.item-settings',
      {
        onsubmit: (event: Event) => {
          event.preventDefault()
          const name = title.value.trim()
          if (!name) return
          void change(
            () => api.content.updateItem(id, { title: name, requirement: requirement.value as api.Requirement }),
            t('course.edit.itemSaved', { title: name }),
            `summary-item-${id}`,
          )
        },
      },
      h('div.field', null, h('label', { for: `ititle-${id}` }, t('course.edit.itemTitle')), title),
      h('div.field', null, h('label', { for: `ireq-${id}` }, t('course.edit.requirement')), requirement),
      h('button', { type: 'submit' }, t('course.edit.save')),
    )
  }

  function addItem(module: api.Module): HTMLElement {
    const id = module.id
    const kind = h(
      'select',
      { id: `kind-${id}` },
      (['page', 'file', 'video', 'link', 'live_session', 'assignment', 'quiz'] as const).map((k) => h('option', { value: k }, t(`course.kind.${k}`))),
    )
    const file = h(
      'select',
      { id: `file-${id}` },
      files.map((f) => h('option', { value: String(f.id) }, f.name)),
    )
    const video = h(
      'select',
      { id: `video-${id}` },
      videos.map((v) => h('option', { value: v.id }, v.status === 'ready' ? v.title : t('course.edit.videoState', { title: v.title, status: t(`course.videoStatus.${v.status}`) }))),
    )
    const fileField = h('div.field', { hidden: true }, h('label', { for: `file-${id}` }, t('course.edit.file')), files.length ? file : h('p.muted.small', null, t('course.edit.noFiles')))
    const videoField = h('div.field', { hidden: true }, h('label', { for: `video-${id}` }, t('course.edit.video')), videos.length ? video : h('p.muted.small', null, t('course.edit.noVideos')))
    const title = h('input', { id: `item-title-${id}`, required: true, maxlength: 200, autocomplete: 'off', 'data-focus-key': `item-title-${id}` })
    const page = h(
      'select',
      { id: `page-${id}` },
      h('option', { value: '' }, t('course.edit.newPage')),
      pages.map((p) => h('option', { value: p.id }, p.title)),
    )
    const url = h('input', { id: `url-${id}`, type: 'url', placeholder: 'https://', autocomplete: 'off' })
    const room = h('input', { id: `room-${id}`, autocomplete: 'off', 'aria-describedby': `room-hint-${id}` })
    const starts = h('input', { id: `starts-${id}`, type: 'datetime-local' })
    const requirement = h(
      'select',
      { id: `req-${id}` },
      h('option', { value: 'view' }, t('course.edit.requirement.view')),
      h('option', { value: 'mark_done' }, t('course.edit.requirement.mark_done')),
      h('option', { value: 'watch', hidden: true }, t('course.edit.requirement.watch')),
      h('option', { value: 'submit', hidden: true }, t('course.edit.requirement.submit')),
    )
    const published = h('input', { id: `item-pub-${id}`, type: 'checkbox', checked: true })
    const quiz = h(
      'select',
      { id: `quiz-${id}` },
      h('option', { value: '' }, t('course.edit.newQuiz')),
      quizzes.map((q) => h('option', { value: q.id }, q.published ? q.title : t('course.edit.draftQuiz', { title: q.title }))),
    )
    const quizField = h('div.field', { hidden: true }, h('label', { for: `quiz-${id}` }, t('course.edit.quiz')), quiz)
    const pageField = h('div.field', null, h('label', { for: `page-${id}` }, t('course.edit.page')), page)
    const urlField = h('div.field', { hidden: true }, h('label', { for: `url-${id}` }, t('course.edit.url')), url)
    const roomFields = h(
      'div.stack',
      { hidden: true },
      h('div.field', null, h('label', { for: `room-${id}` }, t('course.edit.room')), room, h('p.muted.small', { id: `room-hint-${id}` }, t('course.edit.roomHint'))),
      h('div.field', null, h('label', { for: `starts-${id}` }, t('course.edit.startsAt')), starts),
    )
    const sync = (): void => {
      pageField.hidden = kind.value !== 'page'
      urlField.hidden = kind.value !== 'link'
      url.required = kind.value === 'link'
      roomFields.hidden = kind.value !== 'live_session'
      fileField.hidden = kind.value !== 'file'
      videoField.hidden = kind.value !== 'video'
      quizField.hidden = kind.value !== 'quiz'
      const watch = requirement.querySelector<HTMLOptionElement>('option[value=watch]')
      if (watch) watch.hidden = kind.value !== 'video'
      const submit = requirement.querySelector<HTMLOptionElement>('option[value=submit]')
      if (submit) submit.hidden = !['assignment', 'quiz'].includes(kind.value)
      const fixed: Record<string, string> = { video: 'watch', assignment: 'submit', quiz: 'submit' }
      requirement.value = fixed[kind.value] ?? (['watch', 'submit'].includes(requirement.value) ? 'view' : requirement.value)
    }
    kind.addEventListener('change', sync)
    return h(
      'form.stack.add-item',
      {
        onsubmit: (event: Event) => {
          event.preventDefault()
          const name = title.value.trim()
          if (!name) return
          const chosen = kind.value as api.ItemKind
          void change(
            async () => {
              const fields: api.ItemFields = { kind: chosen, title: name, published: published.checked, requirement: requirement.value as api.Requirement }
              if (chosen === 'page') fields.target_id = page.value || (await api.content.addPage(courseId, name)).id
              if (chosen === 'link') fields.url = url.value.trim()
              if (chosen === 'file') fields.file_id = Number(file.value)
              if (chosen === 'video') fields.target_id = video.value
              if (chosen === 'assignment') fields.target_id = (await assignments.create(courseId, name)).id
              if (chosen === 'quiz') fields.target_id = quiz.value || (await authoring.addQuiz(courseId, { title: name })).id
              if (chosen === 'live_session') {
                const found = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/.exec(room.value)
                if (found) fields.target_id = found[0].toLowerCase()
                if (starts.value) fields.starts_at = new Date(starts.value).toISOString()
              }
              await api.content.addItem(id, fields)
            },
            t('course.edit.itemAdded', { title: name, module: module.title }),
            `item-title-${id}`,
          )
        },
      },
      h('div.field', null, h('label', { for: `kind-${id}` }, t('course.edit.kind')), kind),
      h('div.field', null, h('label', { for: `item-title-${id}` }, t('course.edit.itemTitle')), title),
      pageField,
      fileField,
      videoField,
      quizField,
      urlField,
      roomFields,
      h('div.field', null, h('label', { for: `req-${id}` }, t('course.edit.requirement')), requirement),
      h('label.check', { for: `item-pub-${id}` }, published, t('course.edit.itemPublished')),
      h('button.primary', { type: 'submit' }, t('course.edit.addItemSubmit')),
    )
  }

  heading.tabIndex = -1
  void load()
  return {
    title: t('course.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h('main#main.page.stack', null, h('p', null, h('a', { href: '/', 'data-link': '' }, t('course.back'))), heading, body),
    ),
  }
}

/** An ISO time as a datetime-local input's value, in the browser's zone. */
export function toLocalInput(iso: string): string {
  const date = new Date(iso)
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60_000)
  return shifted.toISOString().slice(0, 16)
}
