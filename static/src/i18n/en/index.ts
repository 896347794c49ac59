// The English catalogue: the source language. Each area keeps its messages in its own file;
// a module that adopts the catalogue adds a file here and spreads it below.

import { assignments } from './assignments'
import { authoring } from './authoring'
import { captions } from './captions'
import { cohorts } from './cohorts'
import { common } from './common'
import { course } from './course'
import { files } from './files'
import { liveQuiz } from './liveQuiz'
import { notes } from './notes'
import { gradebook } from './gradebook'
import { labs } from './labs'
import { notifications } from './notifications'
import { payments } from './payments'
import { pages } from './pages'
import { python } from './python'
import { quiz } from './quiz'
import { room } from './room'
import { rubrics } from './rubrics'
import { watch } from './watch'
import { webhooks } from './webhooks'
import { whiteboard } from './whiteboard'
import { workshops } from './workshops'

/** A string with {placeholders}, or plural forms picked by the ``count`` parameter. */
export type Message = string | { zero?: string; one?: string; two?: string; few?: string; many?: string; other: string }

export const en = { ...common, ...pages, ...room, ...webhooks, ...notifications, ...whiteboard, ...captions, ...files, ...watch, ...course, ...quiz, ...assignments, ...rubrics, ...liveQuiz, ...notes, ...authoring, ...gradebook, ...python, ...workshops, ...cohorts, ...payments, ...labs } satisfies Record<string, Message>
