// The app shell: a small History-API router over the pages.

import './styles.css'
import * as api from './api'
import { h } from './dom'
import { t } from './i18n'
import { forgotPage, resetPage, verifyPage } from './pages/accountMail'
import { authPage } from './pages/auth'
import { assignmentPage } from './pages/assignment'
import { assignmentEditorPage } from './pages/assignmentEditor'
import { bankPage } from './pages/bank'
import { cohortPage } from './pages/cohort'
import { cohortDashboardPage } from './pages/cohortDashboard'
import { acceptInvitationPage, cohortsPage, joinCohortPage } from './pages/cohorts'
import { coursePage } from './pages/course'
import { readingPage } from './pages/coursePage'
import { filesPage } from './pages/files'
import { financeOrderPage, financeOrdersPage } from './pages/finance'
import { financeCouponsPage } from './pages/financeCoupons'
import { financeProductsPage } from './pages/financeProducts'
import { financeReconcilePage } from './pages/financeReconcile'
import { financeReportsPage } from './pages/financeReports'
import { gradingPage } from './pages/grading'
import { homePage } from './pages/home'
import { pageEditorPage } from './pages/pageEditor'
import { progressPage } from './pages/progress'
import { purchasePage, purchasesPage } from './pages/purchases'
import { questionEditorPage } from './pages/questionEditor'
import { gradebookPage } from './pages/gradebook'
import { gradebookSetupPage } from './pages/gradebookSetup'
import { myGradesPage } from './pages/myGrades'
import { quizPage } from './pages/quiz'
import { quizResultsPage } from './pages/quizResults'
import { quizSettingsPage } from './pages/quizSettings'
import { receiptPage } from './pages/receipt'
import { notificationSettingsPage } from './pages/notificationSettings'
import { inboxPage } from './pages/notifications'
import { labPage } from './pages/lab'
import { labEditorPage } from './pages/labEditor'
import { labGridPage } from './pages/labGrid'
import { labsPage } from './pages/labs'
import { recordingsPage } from './pages/recordings'
import { reportPage } from './pages/report'
import { scratchpadPage } from './pages/scratchpad'
import { watchPage } from './pages/watch'
import { webhooksPage } from './pages/webhooks'
import { roomPage } from './room/view'
import { workshopPage } from './pages/workshop'
import { calendarPage } from './pages/workshopCalendar'
import { workshopEditorPage } from './pages/workshopEditor'
import { workshopManagePage } from './pages/workshopManage'
import { workshopsPage } from './pages/workshops'

export interface Page {
  el: HTMLElement
  destroy?: () => void
  title: string
}

export type Navigate = (path: string, replace?: boolean) => void

const app = document.getElementById('app') as HTMLElement
const PUBLIC_PAGES = ['/login', '/signup', '/forgot-password', '/reset-password', '/verify-email']
let current: Page | null = null
let generation = 0

export const navigate: Navigate = (path, replace = false) => {
  if (replace) history.replaceState(null, '', path)
  else history.pushState(null, '', path)
  void route()
}

function needsSignIn(): Page {
  const next = location.pathname + location.search
  history.replaceState(null, '', `/login?next=${encodeURIComponent(next)}`)
  return authPage('login', navigate)
}

async function resolve(): Promise<Page> {
  const path = location.pathname.replace(/\/+$/, '') || '/'
  if (path === '/login') return authPage('login', navigate)
  if (path === '/signup') return authPage('signup', navigate)
  if (path === '/forgot-password') return forgotPage(navigate)
  if (path === '/reset-password') return resetPage(navigate)
  if (path === '/verify-email') return verifyPage(navigate)
  const user = await api.me()
  if (!user) return needsSignIn()
  if (path === '/' || path === '/rooms') return homePage(user, navigate)
  if (path === '/rooms/new') return homePage(user, navigate, true)
  if (path === '/admin/webhooks') return webhooksPage(user, navigate)
  if (path === '/notifications') return inboxPage(user, navigate)
  if (path === '/notifications/settings') return notificationSettingsPage(user, navigate)
  if (path === '/scratchpad') return scratchpadPage(user, navigate)
  if (path === '/workshops') return workshopsPage(user, navigate)
  if (path === '/workshops/new') return workshopEditorPage(null, user, navigate)
  if (path === '/calendar') return calendarPage(user, navigate)
  if (path === '/cohorts/join') return joinCohortPage(user, navigate)
  if (path === '/purchases') return purchasesPage(user, navigate)
  if (path === '/finance' || path === '/finance/orders') return financeOrdersPage(user, navigate)
  if (path === '/finance/coupons') return financeCouponsPage(user, navigate)
  if (path === '/finance/reports') return financeReportsPage(user, navigate)
  if (path === '/finance/products') return financeProductsPage(user, navigate)
  if (path === '/finance/reconciliation') return financeReconcilePage(user, navigate)
  if (path === '/cohort-invitations/accept') return acceptInvitationPage(user, navigate)
  let match = /^\/(?:rooms|join)\/([0-9a-fA-F-]{36})$/.exec(path)
  if (match) return roomPage(match[1].toLowerCase(), user, navigate)
  match = /^\/purchases\/([0-9a-fA-F-]{36})$/.exec(path)
  if (match) return purchasePage(match[1].toLowerCase(), user, navigate)
  match = /^\/purchases\/([0-9a-fA-F-]{36})\/receipt$/.exec(path)
  if (match) return receiptPage(match[1].toLowerCase(), user, navigate)
  match = /^\/finance\/orders\/([0-9a-fA-F-]{36})$/.exec(path)
  if (match) return financeOrderPage(match[1].toLowerCase(), user, navigate)
  match = /^\/workshops\/([0-9a-fA-F-]{36})$/.exec(path)
  if (match) return workshopPage(match[1].toLowerCase(), user, navigate)
  match = /^\/workshops\/([0-9a-fA-F-]{36})\/edit$/.exec(path)
  if (match) return workshopEditorPage(match[1].toLowerCase(), user, navigate)
  match = /^\/workshops\/([0-9a-fA-F-]{36})\/manage$/.exec(path)
  if (match) return workshopManagePage(match[1].toLowerCase(), user, navigate)
  match = /^\/rooms\/([0-9a-fA-F-]{36})\/report$/.exec(path)
  if (match) return reportPage(match[1].toLowerCase(), user, navigate)
  match = /^\/rooms\/([0-9a-fA-F-]{36})\/recordings$/.exec(path)
  if (match) return recordingsPage(match[1].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/files$/.exec(path)
  if (match) return filesPage(match[1].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/(watch|videos)\/([0-9a-fA-F-]{36})$/.exec(path)
  if (match) {
    const id = match[3].toLowerCase()
    return watchPage(match[1].toLowerCase(), match[2] === 'watch' ? { itemId: id } : { videoId: id }, user, navigate)
  }
  match = /^\/courses\/([0-9a-fA-F-]{36})(?:\/edit)?$/.exec(path)
  if (match) return coursePage(match[1].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/cohorts$/.exec(path)
  if (match) return cohortsPage(match[1].toLowerCase(), user, navigate)
  match = /^\/cohorts\/([0-9a-fA-F-]{36})$/.exec(path)
  if (match) return cohortPage(match[1].toLowerCase(), user, navigate)
  match = /^\/cohorts\/([0-9a-fA-F-]{36})\/dashboard$/.exec(path)
  if (match) return cohortDashboardPage(match[1].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/progress$/.exec(path)
  if (match) return progressPage(match[1].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/questions$/.exec(path)
  if (match) return bankPage(match[1].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/banks\/([0-9a-fA-F-]{36})\/questions\/new$/.exec(path)
  if (match) return questionEditorPage(match[1].toLowerCase(), { bankId: match[2].toLowerCase() }, user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/questions\/([0-9a-fA-F-]{36})\/edit$/.exec(path)
  if (match) return questionEditorPage(match[1].toLowerCase(), { questionId: match[2].toLowerCase() }, user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/quizzes\/new$/.exec(path)
  if (match) return quizSettingsPage(match[1].toLowerCase(), null, user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/quizzes\/([0-9a-fA-F-]{36})\/edit$/.exec(path)
  if (match) return quizSettingsPage(match[1].toLowerCase(), match[2].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/gradebook$/.exec(path)
  if (match) return gradebookPage(match[1].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/gradebook\/setup$/.exec(path)
  if (match) return gradebookSetupPage(match[1].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/grades$/.exec(path)
  if (match) return myGradesPage(match[1].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/quizzes\/([0-9a-fA-F-]{36})$/.exec(path)
  if (match) return quizPage(match[1].toLowerCase(), match[2].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/quizzes\/([0-9a-fA-F-]{36})\/results$/.exec(path)
  if (match) return quizResultsPage(match[1].toLowerCase(), match[2].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/pages\/([0-9a-fA-F-]{36})$/.exec(path)
  if (match) return readingPage(match[1].toLowerCase(), match[2].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/assignments\/([0-9a-fA-F-]{36})$/.exec(path)
  if (match) return assignmentPage(match[1].toLowerCase(), match[2].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/assignments\/([0-9a-fA-F-]{36})\/edit$/.exec(path)
  if (match) return assignmentEditorPage(match[1].toLowerCase(), match[2].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/assignments\/([0-9a-fA-F-]{36})\/grading$/.exec(path)
  if (match) return gradingPage(match[1].toLowerCase(), match[2].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/labs$/.exec(path)
  if (match) return labsPage(match[1].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/labs\/new$/.exec(path)
  if (match) return labEditorPage(match[1].toLowerCase(), null, user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/labs\/([0-9a-fA-F-]{36})\/edit$/.exec(path)
  if (match) return labEditorPage(match[1].toLowerCase(), match[2].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/labs\/([0-9a-fA-F-]{36})\/live$/.exec(path)
  if (match) return labGridPage(match[1].toLowerCase(), match[2].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/labs\/([0-9a-fA-F-]{36})$/.exec(path)
  if (match) return labPage(match[1].toLowerCase(), match[2].toLowerCase(), user, navigate)
  match = /^\/courses\/([0-9a-fA-F-]{36})\/pages\/([0-9a-fA-F-]{36})\/edit$/.exec(path)
  if (match) return pageEditorPage(match[1].toLowerCase(), match[2].toLowerCase(), user, navigate)
  return {
    title: t('app.notFound.title'),
    el: h(
      'main#main.page.center',
      null,
      h('h1', null, t('app.notFound.heading')),
      h('p', null, h('a', { href: '/', 'data-link': '' }, t('app.goHome'))),
    ),
  }
}

async function route(): Promise<void> {
  const mine = ++generation
  let page: Page
  try {
    page = await resolve()
  } catch (error) {
    page = {
      title: t('app.error.title'),
      el: h(
        'main#main.page.center',
        null,
        h('h1', null, t('app.error.heading')),
        h('p', { role: 'alert' }, error instanceof api.ApiError ? error.readable : String(error)),
        h('p', null, h('a', { href: '/', 'data-link': '' }, t('app.goHome'))),
      ),
    }
  }
  if (mine !== generation) {
    page.destroy?.()
    return
  }
  current?.destroy?.()
  current = page
  app.replaceChildren(page.el)
  document.title = page.title ? t('app.titleSuffix', { title: page.title }) : t('app.name')
  const heading = page.el.querySelector<HTMLElement>('h1')
  if (heading && !page.el.querySelector('[autofocus]')) {
    heading.tabIndex = -1
    heading.focus({ preventScroll: true })
  }
  page.el.querySelector<HTMLElement>('[autofocus]')?.focus()
}

// The skip link moves focus to the page's main region (a hash change would re-route).
const skipMain = document.querySelector<HTMLAnchorElement>('.skip-link[href="#main"]')
if (skipMain) skipMain.textContent = t('skip.main')
document.addEventListener('click', (event) => {
  const link = (event.target as Element | null)?.closest?.('a.skip-link') as HTMLAnchorElement | null
  if (!link || event.defaultPrevented) return
  event.preventDefault()
  const target = document.getElementById('main')
  if (!target) return
  if (!target.hasAttribute('tabindex')) target.tabIndex = -1
  target.focus()
  target.scrollIntoView({ block: 'start' })
})

// Links marked data-link navigate inside the app.
document.addEventListener('click', (event) => {
  const link = (event.target as Element | null)?.closest?.('a[data-link]') as HTMLAnchorElement | null
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return
  event.preventDefault()
  navigate(link.getAttribute('href') ?? '/')
})
window.addEventListener('popstate', () => void route())
api.onSessionChange(() => {
  if (!api.signedIn() && !PUBLIC_PAGES.includes(location.pathname)) void route()
})

void route()
