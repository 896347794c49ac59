// Run Python in the browser for instant feedback in labs: Pyodide in a dedicated Web Worker
// (never on the page's thread), loaded from our own server. One program runs at a time (later
// calls wait their turn). A program running past its time limit is stopped by terminating the
// worker, and a fresh one is started for the next run. This is practice only: the server's
// sandbox gives the result that counts.
//
//   const result = await runPython('print(input())', { stdin: 'hi\n' })
//   // { stdout: 'hi\n', stderr: '', error: null, ms: 3 }

import type { RunRequest, WorkerMessage } from './pyodideMessages'

declare const __PYODIDE_WORKER__: string

export interface RunOptions {
  /** Fed to sys.stdin; input() reads lines from it (EOFError past its end). */
  stdin?: string
  /** Stop the program after this long (default 5 s); Python's start-up does not count. */
  timeoutMs?: number
  /** Workspace files by relative path, written beside the program so `import helper` works. */
  files?: Record<string, string>
}

export interface RunResult {
  stdout: string
  stderr: string
  /** The traceback of an uncaught exception, or why the run was stopped; null on success. */
  error: string | null
  /** How long the program ran, in milliseconds. */
  ms: number
}

export const DEFAULT_TIMEOUT_MS = 5_000
/** Characters kept per stream; past it the output ends with TRUNCATED. */
export const OUTPUT_CAP = 64 * 1024
export const TRUNCATED = '\n[output truncated]'

interface Running {
  id: number
  stdout: string
  stderr: string
  started: number
  timer: number
  finish: (result: RunResult) => void
}

let worker: Worker | null = null
let ready: Promise<void> | null = null
let running: Running | null = null
let queue: Promise<unknown> = Promise.resolve()
let nextId = 1
let epoch = 0

function spawn(): Promise<void> {
  const created = new Worker(__PYODIDE_WORKER__, { type: 'module', name: 'python' })
  worker = created
  return new Promise<void>((resolve, reject) => {
    created.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const message = event.data
      if (message.type === 'ready') resolve()
      else if (message.type === 'failed') {
        discard(created)
        reject(new Error(message.error))
      } else onRunMessage(message)
    }
    created.onerror = (event) => {
      event.preventDefault()
      const reason = event.message || 'the Python worker stopped'
      discard(created)
      reject(new Error(reason))
      stop(`Python stopped: ${reason}`)
    }
  })
}

function discard(which: Worker): void {
  which.terminate()
  if (worker === which) {
    worker = null
    ready = null
  }
}

function onRunMessage(message: WorkerMessage): void {
  if (!running || !('id' in message) || message.id !== running.id) return
  if (message.type === 'out') {
    if (message.stream === 'stdout') running.stdout = clip(running.stdout + message.text)
    else running.stderr = clip(running.stderr + message.text)
  } else if (message.type === 'done') {
    const done = running
    running = null
    window.clearTimeout(done.timer)
    done.finish({ stdout: finishOutput(done.stdout), stderr: finishOutput(done.stderr), error: message.error, ms: message.ms })
    if (message.fatal) {
      if (worker) discard(worker)
      void warmUp().catch(() => undefined)
    }
  }
}

// Keeps one character past the cap, which marks the stream as truncated.
function clip(text: string): string {
  return text.length > OUTPUT_CAP + 1 ? text.slice(0, OUTPUT_CAP + 1) : text
}

function finishOutput(text: string): string {
  return text.length > OUTPUT_CAP ? text.slice(0, OUTPUT_CAP) + TRUNCATED : text
}

/** Ends the running program with `error`, throws its worker away and starts a fresh one. */
function stop(error: string): void {
  const stopped = running
  if (!stopped) return
  running = null
  window.clearTimeout(stopped.timer)
  if (worker) discard(worker)
  stopped.finish({
    stdout: finishOutput(stopped.stdout),
    stderr: finishOutput(stopped.stderr),
    error,
    ms: Math.round(performance.now() - stopped.started),
  })
  void warmUp().catch(() => undefined)
}

/** Loads Python in its worker now (a page calls it early so the first run is quick). */
export function warmUp(): Promise<void> {
  if (!ready) ready = spawn()
  return ready
}

async function runNow(code: string, opts: RunOptions, mine: number): Promise<RunResult> {
  if (mine !== epoch) return { stdout: '', stderr: '', error: 'Cancelled.', ms: 0 }
  try {
    await warmUp()
  } catch (failure) {
    ready = null
    return { stdout: '', stderr: '', error: `Python could not start: ${failure instanceof Error ? failure.message : String(failure)}`, ms: 0 }
  }
  if (mine !== epoch || !worker) return { stdout: '', stderr: '', error: 'Cancelled.', ms: 0 }
  const timeoutMs = Math.max(1, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  const target = worker
  return new Promise<RunResult>((resolve) => {
    const id = nextId++
    running = {
      id,
      stdout: '',
      stderr: '',
      started: performance.now(),
      finish: resolve,
      timer: window.setTimeout(() => {
        if (running?.id === id) stop(`Time limit exceeded: the program was stopped after ${formatSeconds(timeoutMs)} s.`)
      }, timeoutMs),
    }
    const request: RunRequest = { type: 'run', id, code, stdin: opts.stdin ?? '', files: opts.files ?? {}, cap: OUTPUT_CAP }
    target.postMessage(request)
  })
}

function formatSeconds(ms: number): string {
  return String(Math.round(ms / 100) / 10)
}

/** Runs `code` in the Python worker; never rejects (failures come back in `error`). */
export function runPython(code: string, opts: RunOptions = {}): Promise<RunResult> {
  const mine = epoch
  const result = queue.then(() => runNow(code, opts, mine))
  queue = result.catch(() => undefined)
  return result
}

/** Stops the running program (and drops the ones waiting); their results say "Cancelled." */
export function cancel(): void {
  epoch++
  stop('Cancelled.')
}
