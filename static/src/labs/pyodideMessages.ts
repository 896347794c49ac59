// The messages between the page (labs/pyodide.ts) and the Python worker (labs/pyodideWorker.ts).
// Type-only: neither side imports the other's code.

/** Page -> worker: run one program. */
export interface RunRequest {
  type: 'run'
  id: number
  code: string
  stdin: string
  /** Workspace files (relative paths) written next to the program before it runs. */
  files: Record<string, string>
  /** Characters kept per stream; the worker stops forwarding output past it. */
  cap: number
}

/** Worker -> page. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'out'; id: number; stream: 'stdout' | 'stderr'; text: string }
  /** fatal: Python itself broke (not the program): the page replaces the worker. */
  | { type: 'done'; id: number; error: string | null; ms: number; fatal?: boolean }
