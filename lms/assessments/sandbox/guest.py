"""The test harness that runs INSIDE the sandbox (WASI CPython), never in the server.

The worker compiles this file once, inside the sandbox, and starts each run as
``python -S -I -c <worker.BOOT>``, which loads that bytecode from the head of stdin and
runs it; the rest of stdin holds one job in ``marshal`` format: a nonce, the student's
code, the tests, the forbidden modules and the wall clock budget (marshal is built in: the
guest imports nothing it can avoid, since every import costs each run milliseconds of
interpreting, and so verdicts are not JSON either). The harness reads
all of stdin before any student code runs (the student's code then sees an empty stdin),
compiles the student's code, runs it as the module ``solution``, then runs each test in
order in a copy of that module's namespace.

Verdicts go to file descriptor 2 as lines ``<nonce> <kind> <hex id> <0|1> <hex message>``
(``harness.parse_channel`` reads them); the student's own prints to
``sys.stdout`` and ``sys.stderr`` both go to fd 1, which the host shows as output. A line
the student prints, on either descriptor, lacks the nonce and is never read as a verdict.
While a hidden test runs, output is discarded, so a hidden test cannot be printed back.

Forbidden modules: an import hook refuses them (an ``ImportError`` subclass) and reports
``forbidden`` at once, so catching the error does not hide it. The refusal is a rule of the
exercise; the security boundary is the sandbox itself (no files, sockets or processes).

This module must stay plain standard-library Python that CPython 3.12 runs: it is sent as
source text. Its names start with an underscore so that the student's module, which gets
a fresh namespace, never sees them.
"""

from __future__ import annotations

import builtins
import marshal
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # importing typing inside the sandbox would cost every run ~20 ms
    from typing import Any, Protocol

    class Emit(Protocol):
        def __call__(
            self, kind: str, ident: str = "", passed: bool = False, message: str = ""
        ) -> None: ...


class _Forbidden(ImportError):
    """Raised when the student's code or a test imports a forbidden module."""


class _Refused(PermissionError):
    """Raised by the process-level functions the sandbox does not offer (fork, exec...)."""


ENOTSUP = 58
"""WASI's errno for what it does not offer: sockets, processes."""


REFUSALS = {
    "socket": ("socket", "create_connection", "create_server", "getaddrinfo", "socketpair"),
    "subprocess": ("Popen", "run", "call", "check_call", "check_output", "getoutput"),
}
"""What WASI cannot do anyway, replaced on import by a clear refusal (not an odd error)."""


class _Unsupported(OSError):
    """A test hit something WASI does not offer; reported as a refusal."""


class _Null:
    """A text stream that discards what is written (output of hidden tests)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


def _main() -> None:
    import posix

    read, write = posix.read, posix.write
    chunks: list[bytes] = []
    while chunk := read(0, 1 << 20):
        chunks.append(chunk)
    job: dict[str, Any] = marshal.loads(b"".join(chunks))  # noqa: S302 (written by the worker)
    del chunks
    prefix = "\n" + job.pop("nonce") + " "

    def emit(kind: str, ident: str = "", passed: bool = False, message: str = "") -> None:
        fields = (kind, ident.encode().hex(), "1" if passed else "0", _hex(message[:2000]))
        write(2, (prefix + " ".join(fields) + "\n").encode())

    _guard_imports(frozenset(job["forbidden"]), emit)
    _refuse_processes(emit)
    _bound_sleep(job["wall_ms"] / 1000)
    sys.stdin = sys.modules["io"].StringIO("")
    out = sys.stdout
    sys.stderr = out
    try:
        code = compile(job["code"], "solution.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        emit("syntax", message=_syntax_message(exc))
        emit("end")
        return
    namespace: dict[str, Any] = {"__name__": "solution", "__builtins__": builtins}
    try:
        exec(code, namespace)  # noqa: S102 (inside the sandbox: that is its purpose)
    except _Forbidden:
        return
    except MemoryError:
        emit("memory")
        return
    except SystemExit:
        pass
    except BaseException as exc:  # the tests still run: they report what is missing
        _refused(exc, emit)
        _print_error(exc, out)
    for test in job["tests"]:
        sys.stdout = sys.stderr = _Null() if test["hidden"] else out
        try:
            passed, message = _run_test(test["source"], namespace)
        except _Forbidden:
            return
        except MemoryError:
            emit("memory")
            return
        except _Unsupported as exc:
            _refused(exc, emit)
            passed, message = False, f"{type(exc).__name__}: {exc}"
        finally:
            sys.stdout = sys.stderr = out
        out.flush()
        emit("test", test["id"], passed, message)
    out.flush()
    emit("end")


def _refused(exc: BaseException, emit: Emit) -> None:
    """Report an error from a capability WASI lacks (a socket, a process) as a refusal."""
    if isinstance(exc, OSError) and exc.errno == ENOTSUP:
        emit("forbidden", message=f"Not available in the sandbox: {exc.strerror or exc}")


def _hex(text: str) -> str:
    return text.encode("utf-8", "replace").hex()


def _run_test(source: str, namespace: dict[str, Any]) -> tuple[bool, str]:
    """Run one test's source after the student's code; (passed, why not)."""
    try:
        code = compile(source, "test.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return False, "The test does not compile: " + _syntax_message(exc)
    try:
        exec(code, dict(namespace))  # noqa: S102 (inside the sandbox)
    except (_Forbidden, MemoryError):
        raise
    except OSError as exc:
        if exc.errno == ENOTSUP:
            raise _Unsupported(*exc.args) from exc
        return False, f"{type(exc).__name__}: {exc}"
    except AssertionError as exc:
        return False, str(exc) or f"Assertion failed (test line {_lines(exc, 'test.py')[-1]})"
    except BaseException as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


def _lines(exc: BaseException, filename: str) -> list[int]:
    """The line numbers of ``filename``'s frames in ``exc``'s traceback, outermost first."""
    lines = [0]
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            lines.append(tb.tb_lineno)
        tb = tb.tb_next
    return lines


def _syntax_message(exc: SyntaxError | ValueError) -> str:
    if isinstance(exc, SyntaxError):
        return f"line {exc.lineno}: {exc.msg}"
    return str(exc)


def _print_error(exc: BaseException, out: Any) -> None:
    """The student's traceback, short: the student's lines and the error."""
    lines = "".join(f'  File "solution.py", line {n}\n' for n in _lines(exc, "solution.py")[1:])
    out.write(f"Traceback (most recent call last):\n{lines}{type(exc).__name__}: {exc}\n")


def _guard_imports(forbidden: frozenset[str], emit: Emit) -> None:
    """Refuse the forbidden modules to the student's code and the tests.

    ``__import__`` is wrapped, so an import statement is refused even when the module was
    loaded at start-up (``os`` is); importlib's own path is covered by a finder. Imports
    made by standard-library modules themselves are let through (``json`` may use ``re``).
    """
    original = builtins.__import__

    def refused(name: str) -> bool:
        return any(name == bad or name.startswith(bad + ".") for bad in forbidden)

    def refuse(name: str) -> None:
        emit("forbidden", message=f"import of {name!r} is not allowed here")
        raise _Forbidden(f"import of {name!r} is not allowed here", name=name)

    def guarded(
        name: str,
        globals: dict[str, Any] | None = None,
        locals: Any = None,
        fromlist: Any = (),
        level: int = 0,
    ) -> Any:
        caller = (globals or {}).get("__name__")
        if caller == "solution" and level == 0:
            if refused(name):
                refuse(name)
            for item in fromlist or ():
                if isinstance(item, str) and refused(f"{name}.{item}"):
                    refuse(f"{name}.{item}")
        depth[0] += 1
        try:
            module = original(name, globals, locals, fromlist, level)
        finally:
            depth[0] -= 1
        if depth[0]:  # a nested import: the outer module is not fully defined yet
            return module
        for loaded in REFUSALS.keys() & sys.modules.keys() - patched:
            patched.add(loaded)
            for attribute in REFUSALS[loaded]:
                setattr(sys.modules[loaded], attribute, _refusal(f"{loaded}.{attribute}", emit))
        return module

    patched: set[str] = set()
    depth = [0]

    class Finder:
        @staticmethod
        def find_spec(name: str, path: Any = None, target: Any = None) -> None:
            if refused(name) and _called_by_student():
                refuse(name)

    builtins.__import__ = guarded  # type: ignore[assignment]
    sys.meta_path.insert(0, Finder())


def _called_by_student() -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename in ("solution.py", "test.py"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _refuse_processes(emit: Emit) -> None:
    """The process functions WASI lacks become a clear refusal, reported as forbidden.

    They are set on ``posix``, which ``os`` copies when it is first imported (it is not
    loaded yet at this point: importing it here would cost every run)."""
    import posix

    # _exit and abort too: ending the process before the tests would skip the harness.
    names: tuple[str, ...] = ("fork", "forkpty", "system", "popen", "execv", "execve")
    names += ("kill", "spawnv", "_exit", "abort")
    for name in names:
        setattr(posix, name, _refusal(f"os.{name}", emit))
        if "os" in sys.modules:
            setattr(sys.modules["os"], name, _refusal(f"os.{name}", emit))


def _refusal(name: str, emit: Emit) -> Any:
    """A stand-in for ``name`` that reports and raises a clear refusal."""

    def refusal(*_args: Any, **_kwargs: Any) -> None:
        emit("forbidden", message=f"{name} is not available in the sandbox")
        raise _Refused(f"{name} is not available in the sandbox")

    return refusal


def _bound_sleep(budget: float) -> None:
    """``time.sleep`` blocks outside the interpreter, where the wall clock deadline cannot
    stop it: no sleep may last past the run's budget, after which the deadline fires as
    soon as the interpreter runs again."""
    original = time.sleep
    end = time.monotonic() + budget + 0.1

    def sleep(seconds: float) -> None:
        original(max(0.0, min(float(seconds), end - time.monotonic())))

    time.sleep = sleep  # type: ignore[assignment]


if __name__ == "__main__":
    _main()
