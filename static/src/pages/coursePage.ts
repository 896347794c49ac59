// A course page's reading view: the published version as the server rendered and
// sanitized it, the view recorded on open, and "Mark as done" when the item asks for it.

import * as api from '../api'
import { announce, fill, h } from '../dom'
import { formatDateTime, t } from '../i18n'
import type { Navigate, Page } from '../main'
import { topbar } from './shell'

function readable(error: unknown): string {
  return error instanceof api.ApiError ? error.readable : error instanceof Error ? error.message : String(error)
}

export function readingPage(courseId: string, pageId: string, user: api.User, navigate: Navigate): Page {
  const heading = h('h1', null, t('coursePage.title'))
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('coursePage.loading')))
  const status = h('div.row.wrap', { role: 'status', 'data-testid': 'page-status' })

  async function load(): Promise<void> {
    try {
      const [course, content] = await Promise.all([api.content.course(courseId), api.content.get(courseId)])
      const page = await api.content.page(pageId)
      heading.textContent = page.title
      document.title = t('app.titleSuffix', { title: page.title })
      const item = content.modules.flatMap((m) => m.items).find((i) => i.kind === 'page' && i.target_id === pageId) ?? null
      const learner = course.my_role === 'student'
      let progress = item?.progress ?? null
      if (learner && item) progress = await api.content.record(item.id, 'view')
      const article = h('article.page-body.card', { 'aria-labelledby': 'page-heading-label' })
      if (page.html !== null) article.innerHTML = page.html // sanitized by the server on publish
      body.setAttribute('aria-busy', 'false')
      fill(
        body,
        h('span#page-heading-label.sr-only', null, page.title),
        page.html === null ? h('p.muted', null, t('coursePage.unpublished')) : page.published_at ? h('p.muted.small', null, t('coursePage.publishedAt', { when: formatDateTime(page.published_at) })) : null,
        page.html === null ? null : article,
        status,
        content.can_edit || course.my_role === 'ta'
          ? h('p', null, h('a.button', { href: `/courses/${courseId}/pages/${pageId}/edit`, 'data-link': '' }, t(content.can_edit ? 'coursePage.edit' : 'coursePage.draft')))
          : null,
      )
      showStatus(item, progress, learner)
    } catch (error) {
      body.setAttribute('aria-busy', 'false')
      fill(body, h('p.error', { role: 'alert' }, readable(error)))
    }
  }

  function showStatus(item: api.Item | null, progress: api.ItemProgress | null, learner: boolean): void {
    if (!item || !learner) return fill(status)
    if (progress?.completed) {
      fill(status, h('span.badge.done', { 'data-testid': 'page-done' }, h('span', { 'aria-hidden': 'true' }, '✓ '), t('coursePage.done')), h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('coursePage.continue')))
      return
    }
    if (item.requirement !== 'mark_done') return fill(status)
    const button = h(
      'button.primary',
      {
        type: 'button',
        onclick: async () => {
          button.disabled = true
          try {
            const after = await api.content.record(item.id, 'done')
            showStatus(item, after, learner)
            announce(t('coursePage.markedDone', { title: item.title }))
            status.querySelector<HTMLElement>('a')?.focus()
          } catch (error) {
            button.disabled = false
            announce(readable(error), 'assertive')
          }
        },
      },
      t('coursePage.markDone'),
    )
    fill(status, button)
  }

  heading.tabIndex = -1
  void load()
  return {
    title: t('coursePage.title'),
    el: h(
      'div',
      null,
      topbar(user, navigate),
      h(
        'main#main.page.stack.reading',
        null,
        h('p', null, h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('coursePage.back'))),
        heading,
        body,
      ),
    ),
  }
}
