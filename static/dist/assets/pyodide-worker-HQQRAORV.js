var n=self,_=`
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
`,i=null,d=0;function a(e,s){n.postMessage({type:"out",id:d,stream:e==="stderr"?"stderr":"stdout",text:s})}async function p(){try{let e="/pyodide/314.0.7/",r=await(await import(`${e}pyodide.mjs`)).loadPyodide({indexURL:e,packageBaseUrl:e,env:{HOME:"/home/pyodide"}});r.setStdout({batched:t=>a("stdout",`${t}
`)}),r.setStderr({batched:t=>a("stderr",`${t}
`)}),r.runPython(_),i=r.globals.get("_lc_run"),n.postMessage({type:"ready"})}catch(e){n.postMessage({type:"failed",error:e instanceof Error?e.message:String(e)})}}n.onmessage=e=>{let s=e.data;if(s.type!=="run"||!i)return;d=s.id;let r=performance.now(),t,l=!1;try{let o=i(s.code,JSON.stringify(s.files),s.stdin,a,s.cap);t=typeof o=="string"?o:null}catch(o){t=`Python stopped: ${o instanceof Error?o.message:String(o)}`,l=!0,i=null}n.postMessage({type:"done",id:s.id,error:t,ms:Math.round(performance.now()-r),fatal:l})};p();
