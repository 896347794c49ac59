// The Python worker: Pyodide loaded from our own server (/pyodide/<version>/, copied there
// by static/build.mjs), one program run at a time. It never sees the page's tokens (a worker
// has no localStorage), and its own content policy (static/app.py WORKER_POLICY) keeps every
// request on our origin. An endless program is stopped by the page terminating the worker.

import type { RunRequest, WorkerMessage } from './pyodideMessages'

declare const __PYODIDE_INDEX_URL__: string

interface PyCallable {
  (...args: unknown[]): unknown
  destroy(): void
}
interface Pyodide {
  runPython(code: string): unknown
  globals: { get(name: string): PyCallable }
  setStdout(options: { batched: (text: string) => void }): void
  setStderr(options: { batched: (text: string) => void }): void
}

const scope = self as unknown as {
  postMessage(message: WorkerMessage): void
  onmessage: ((event: MessageEvent<RunRequest>) => void) | null
}

// The Python side: output goes through small buffered streams that forward to the page (the
// first 64 writes at once, then every 8 KiB or after 50 ms, so what a program printed before
// it hung is there when it is stopped; at most its last 50 ms of output can be lost) and
// drop everything past the cap; workspace files are written under WORK and its modules
// forgotten between runs, so `import helper` always sees the current helper.py.
const RUNNER = `
import builtins, io, json, os, shutil, sys, time, traceback, importlib

_WORK = '/home/pyodide/workspace'

class _Stream(io.TextIOBase):
    def __init__(self, name, emit, cap):
        self.name, self._emit, self._cap = name, emit, cap
        self._parts, self._pending, self._sent, self._last, self._flushes = [], 0, 0, 0.0, 0
    def writable(self):
        return True
    def write(self, s):
        if not isinstance(s, str):
            raise TypeError('write() argument must be str, not ' + type(s).__name__)
        room = self._cap - self._sent - self._pending
        if room > 0:
            part = s[:room + 1]
            self._parts.append(part)
            self._pending += len(part)
            if self._flushes < 64 or self._pending >= 8192 or time.monotonic() - self._last > 0.05:
                self.flush()
        return len(s)
    def flush(self):
        if self._parts:
            self._emit(self.name, ''.join(self._parts))
            self._sent += self._pending
            self._parts, self._pending = [], 0
            self._flushes += 1
        self._last = time.monotonic()

def _clean(text):
    return text.replace('"' + _WORK + '/', '"')

def _prepare(files):
    os.chdir('/home/pyodide')
    shutil.rmtree(_WORK, ignore_errors=True)
    os.makedirs(_WORK, exist_ok=True)
    for name, text in files.items():
        parts = [p for p in name.replace('\\\\', '/').split('/') if p not in ('', '.')]
        if not parts or '..' in parts:
            continue
        path = os.path.join(_WORK, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
    for key, module in list(sys.modules.items()):
        where = getattr(module, '__file__', None) or ''
        if where.startswith(_WORK + '/'):
            del sys.modules[key]
    importlib.invalidate_caches()
    os.chdir(_WORK)
    if sys.path[:1] != [_WORK]:
        sys.path.insert(0, _WORK)

def _lc_run(code, files_json, stdin, emit, cap):
    _prepare(json.loads(files_json))
    out, err = _Stream('stdout', emit, cap), _Stream('stderr', emit, cap)
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    scope = {'__name__': '__main__', '__file__': 'main.py', '__builtins__': builtins}
    error = None
    try:
        exec(compile(code, 'main.py', 'exec'), scope)
    except SystemExit as e:
        if e.code not in (None, 0):
            error = 'SystemExit: ' + str(e.code)
    except BaseException as e:
        tb = e.__traceback__.tb_next if e.__traceback__ else None
        error = _clean(''.join(traceback.format_exception(type(e), e, tb)))
    finally:
        try:
            out.flush()
            err.flush()
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved
    return error
`

let run: PyCallable | null = null
let current = 0

function emit(stream: string, text: string): void {
  scope.postMessage({ type: 'out', id: current, stream: stream === 'stderr' ? 'stderr' : 'stdout', text })
}

async function start(): Promise<void> {
  try {
    const indexURL = __PYODIDE_INDEX_URL__
    const module = (await import(/* runtime URL, not bundled */ `${indexURL}pyodide.mjs`)) as {
      loadPyodide(options: Record<string, unknown>): Promise<Pyodide>
    }
    const pyodide = await module.loadPyodide({ indexURL, packageBaseUrl: indexURL, env: { HOME: '/home/pyodide' } })
    // Output written below Python's sys.stdout (os.write, C code) still reaches the page.
    pyodide.setStdout({ batched: (text) => emit('stdout', `${text}\n`) })
    pyodide.setStderr({ batched: (text) => emit('stderr', `${text}\n`) })
    pyodide.runPython(RUNNER)
    run = pyodide.globals.get('_lc_run')
    scope.postMessage({ type: 'ready' })
  } catch (error) {
    scope.postMessage({ type: 'failed', error: error instanceof Error ? error.message : String(error) })
  }
}

scope.onmessage = (event) => {
  const request = event.data
  if (request.type !== 'run' || !run) return
  current = request.id
  const started = performance.now()
  let error: string | null
  let fatal = false
  try {
    const result = run(request.code, JSON.stringify(request.files), request.stdin, emit, request.cap)
    error = typeof result === 'string' ? result : null
  } catch (failure) {
    // The program's own exceptions come back as its traceback: this is Python breaking
    // (a JavaScript stack overflow, a fatal error), after which this worker is not reused.
    error = `Python stopped: ${failure instanceof Error ? failure.message : String(failure)}`
    fatal = true
    run = null
  }
  scope.postMessage({ type: 'done', id: request.id, error, ms: Math.round(performance.now() - started), fatal })
}

void start()
