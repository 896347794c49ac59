// The authors' REST calls (lms/assessments): banks, questions with their keys, the preview,
// quizzes and their settings, accommodations.

import { request } from '../api'
import type { Answer, QuestionView } from './quizApi'

const enc = encodeURIComponent

export interface Bank {
  id: string
  course_id: string
  title: string
  questions: number
}

export interface Question {
  id: string
  bank_id: string
  type: string
  title: string
  tags: string[]
  version: number
  archived: boolean
  definition: Record<string, unknown>
  regraded_attempts: number | null
}

export interface QuestionBody {
  title: string
  tags: string[]
  definition: Record<string, unknown>
}

export interface Preview {
  view: QuestionView
  result: { score: number; points: number; status: string; feedback?: string | null } | null
}

export type Slot = { question_id: string } | { bank_id: string; count: number; tags: string[] }

export interface QuizSettings {
  id: string
  course_id: string
  title: string
  instructions: string
  published: boolean
  slots: Slot[]
  time_limit_seconds: number | null
  max_attempts: number | null
  keep: 'highest' | 'latest' | 'average'
  available_from: string | null
  available_until: string | null
  due_at: string | null
  shuffle_questions: boolean
  results_release: string
  answers_release: string
  released_at: string | null
}

export interface Accommodation {
  user_id: string
  extra_seconds: number
  extra_attempts: number
}

export interface Member {
  user_id: string
  name: string
  email: string | null
  role: string
}

interface PageOf<T> {
  items: T[]
  next: string | null
}

/** Every item of a paged list (following ``next``). */
async function all<T>(path: string): Promise<T[]> {
  const items: T[] = []
  let cursor: string | null = null
  do {
    const sep = path.includes('?') ? '&' : '?'
    const page: PageOf<T> = await request<PageOf<T>>('GET', cursor ? `${path}${sep}cursor=${enc(cursor)}` : path)
    items.push(...page.items)
    cursor = page.next
  } while (cursor)
  return items
}

export const authoring = {
  banks: (courseId: string) => all<Bank>(`/api/v1/courses/${enc(courseId)}/question-banks`),
  addBank: (courseId: string, title: string) => request<Bank>('POST', `/api/v1/courses/${enc(courseId)}/question-banks`, { json: { title } }),
  questions: (bankId: string, tag = '', archived = false) =>
    all<Question>(`/api/v1/question-banks/${enc(bankId)}/questions?archived=${archived}${tag ? `&tag=${enc(tag)}` : ''}`),
  question: (id: string) => request<Question>('GET', `/api/v1/questions/${enc(id)}`),
  addQuestion: (bankId: string, body: QuestionBody) => request<Question>('POST', `/api/v1/question-banks/${enc(bankId)}/questions`, { json: body }),
  updateQuestion: (id: string, body: QuestionBody) => request<Question>('PUT', `/api/v1/questions/${enc(id)}`, { json: body }),
  archiveQuestion: (id: string) => request<void>('DELETE', `/api/v1/questions/${enc(id)}`),
  preview: (courseId: string, definition: Record<string, unknown>, response?: Answer) =>
    request<Preview>('POST', `/api/v1/courses/${enc(courseId)}/question-preview`, { json: response ? { definition, response } : { definition } }),
  quizzes: (courseId: string) => all<QuizSettings>(`/api/v1/courses/${enc(courseId)}/quizzes`),
  quiz: (id: string) => request<QuizSettings>('GET', `/api/v1/quizzes/${enc(id)}`),
  addQuiz: (courseId: string, body: Record<string, unknown>) => request<QuizSettings>('POST', `/api/v1/courses/${enc(courseId)}/quizzes`, { json: body }),
  updateQuiz: (id: string, body: Record<string, unknown>) => request<QuizSettings>('PATCH', `/api/v1/quizzes/${enc(id)}`, { json: body }),
  accommodations: (quizId: string) => all<Accommodation>(`/api/v1/quizzes/${enc(quizId)}/accommodations`),
  accommodate: (quizId: string, userId: string, body: { extra_seconds: number; extra_attempts: number }) =>
    request<Accommodation>('PUT', `/api/v1/quizzes/${enc(quizId)}/accommodations/${enc(userId)}`, { json: body }),
  roster: (courseId: string) => request<Member[]>('GET', `/api/v1/courses/${enc(courseId)}/enrollments`),
}
