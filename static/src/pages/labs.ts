// A course's labs: staff see every lab with its state, a link to its live view and to its
// editor, author a new one and delete one (after a confirmation: a draft goes, a started lab
// is archived); learners see the labs that have started and open their own workspace.

import type * as api from '../api'
import { confirmDialog, fill, h, toast } from '../dom'
import { t } from '../i18n'
import { type Lab, labs } from '../labs/api'
import type { Navigate, Page } from '../main'
import { readable } from './gradebookApi'
import { topbar } from './shell'

/** Ask, then delete (a draft) or archive (a started lab); true when it was done. */
async function confirmRemove(lab: Lab): Promise<boolean> {
  const started = lab.status !== 'draft'
  const body = started ? t('labEditor.deleteStarted') : t('labEditor.deleteDraft')
  if (!(await confirmDialog(t('labEditor.deleteTitle', { title: lab.title }), body, t('labEditor.deleteConfirm'), true))) return false
  try {
    await labs.remove(lab.id)
  } catch (error) {
    toast(readable(error), 'error')
    return false
  }
  toast(started ? t('labEditor.archived') : t('labEditor.deleted'), 'success')
  return true
}

function staffCard(courseId: string, lab: Lab, reload: () => void): HTMLElement {
  const base = `/courses/${courseId}/labs/${lab.id}`
  const remove = h('button.danger', { type: 'button', 'aria-label': t('labs.deleteOf', { title: lab.title }) }, t('labs.delete'))
  remove.addEventListener('click', () => {
    void confirmRemove(lab).then((done) => (done ? reload() : remove.focus()))
  })
  return h(
    'li.card.stack',
    { 'data-testid': 'lab-card' },
    h('h2', null, lab.title),
    h('p.small', null, t(`labs.status.${lab.status}`), ' · ', t('labs.steps', { count: lab.steps.length })),
    h(
      'p.row.wrap',
      null,
      h('a.button', { href: `${base}/live`, 'data-link': '', 'aria-label': t('labs.liveOf', { title: lab.title }) }, t('labs.live')),
      lab.status === 'archived' ? null : h('a.button', { href: `${base}/edit`, 'data-link': '', 'aria-label': t('labs.editOf', { title: lab.title }) }, t('labs.edit')),
      lab.status === 'archived' ? null : remove,
    ),
  )
}

function learnerCard(courseId: string, lab: Lab): HTMLElement {
  return h(
    'li.card.stack',
    { 'data-testid': 'lab-card' },
    h('h2', null, h('a', { href: `/courses/${courseId}/labs/${lab.id}`, 'data-link': '' }, lab.title)),
    h('p.small', null, t(`labs.status.${lab.status}`), ' · ', t('labs.steps', { count: lab.steps.length })),
  )
}

export function labsPage(courseId: string, user: api.User, navigate: Navigate): Page {
  const body = h('div.stack', { 'aria-busy': 'true' }, h('p.muted', null, t('labs.loading')))

  async function load(): Promise<void> {
    try {
      const found = (await labs.list(courseId)).items
      const staff = found.some((lab) => lab.my_role === 'staff') || user.role === 'admin'
      body.setAttribute('aria-busy', 'false')
      const mayAuthor = staff || user.role === 'instructor'
      fill(
        body,
        mayAuthor ? h('p', null, h('a.button.primary', { href: `/courses/${courseId}/labs/new`, 'data-link': '' }, t('labs.new'))) : null,
        found.length
          ? h('ul.stack', null, found.map((lab) => (lab.my_role === 'staff' ? staffCard(courseId, lab, () => void load()) : learnerCard(courseId, lab))))
          : h('p', null, t('labs.none')),
        h('p', null, h('a', { href: `/courses/${courseId}`, 'data-link': '' }, t('labs.back'))),
      )
    } catch (error) {
      body.setAttribute('aria-busy', 'false')
      fill(body, h('p', { role: 'alert' }, error instanceof Error ? error.message : t('labs.failed')))
    }
  }

  void load()
  return {
    title: t('labs.title'),
    el: h('div', null, topbar(user, navigate), h('main#main.page', null, h('h1', null, t('labs.title')), body)),
  }
}
