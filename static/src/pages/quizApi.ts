// The quizzes' REST calls and shapes (lms/assessments): a learner's view of a quiz, attempts,
// autosave and submission. Views carry no key; answers name the view's tokens.

import { request } from '../api'

export interface Quiz {
  id: string
  course_id: string
  title: string
  instructions: string
  time_limit_seconds: number | null
  max_attempts: number | null
  available_until: string | null
  due_at: string | null
}

export interface AttemptSummary {
  id: string
  number: number
  status: 'active' | 'submitted'
  started_at: string
  submitted_at: string | null
  score: number | null
  points: number
}

export interface MyQuiz {
  quiz: Quiz
  attempts: AttemptSummary[]
  attempts_left: number | null
  active_attempt: string | null
  score: number | null
  extra_seconds: number
}

export interface ViewItem {
  token: string
  text: string
}

export interface QuestionView {
  type: string
  prompt: string
  points: number
  [field: string]: unknown
}

export type Answer = Record<string, unknown>

export interface AttemptQuestion {
  id: string
  view: QuestionView
  answer: Answer | null
  seq: number
}

export interface Attempt {
  id: string
  quiz_id: string
  number: number
  status: 'active' | 'submitted'
  deadline: string | null
  submitted_at: string | null
  submitted_by: string | null
  questions: AttemptQuestion[]
  points: number
  score: number | null
  pending: number | null
}

export interface SaveResult {
  saved: string[]
  stale: string[]
  deadline: string | null
}

/** A practice run's report: the visible tests' verdicts and the printed output. */
export interface CodeRun {
  status: 'completed' | 'timeout' | 'memory' | 'output_limit' | 'forbidden' | 'syntax_error' | 'crashed' | 'sandbox_error'
  tests: { id: string; passed: boolean; message: string }[]
  output: string
  duration_ms: number
}

export const quizzes = {
  mine: (quizId: string) => request<MyQuiz>('GET', `/api/v1/quizzes/${quizId}/me`),
  start: (quizId: string) => request<Attempt>('POST', `/api/v1/quizzes/${quizId}/attempts`),
  attempt: (attemptId: string) => request<Attempt>('GET', `/api/v1/attempts/${attemptId}`),
  save: (attemptId: string, seq: number, answers: Record<string, Answer>) =>
    request<SaveResult>('PUT', `/api/v1/attempts/${attemptId}/answers`, { json: { seq, answers } }),
  submit: (attemptId: string, seq: number, answers: Record<string, Answer>) =>
    request<Attempt>('POST', `/api/v1/attempts/${attemptId}/submit`, { json: Object.keys(answers).length ? { seq, answers } : {} }),
  run: (attemptId: string, questionId: string, code: string) =>
    request<CodeRun>('POST', `/api/v1/attempts/${attemptId}/questions/${questionId}/run`, { json: { code } }),
}
