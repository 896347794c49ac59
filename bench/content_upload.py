"""Content benchmark, uploads and file serving (issue 18): a large tus upload through a real
node against copying the same file on the same disk, and signed ``/blobs/`` downloads
against nginx serving the same files, in the same run.

**Upload.** A file of ``--size`` bytes (1 GiB by default; the issue's figure is 2 GB) is
written into a temporary folder on the disk that holds the node's data directory, then
uploaded with tus from a client in this process: creation, the PATCHes, and the last one's
completion (digest, content sniffing, the move into the blob store, the file row and its
event) are timed together. The client (``--client sendfile``, the default) sends each
PATCH body from the file with ``os.sendfile`` over one keep-alive socket (``SendfileTus``:
only the kernel's copy, ~0.1 CPU-s per GiB, as ``curl --upload-file`` nearly does);
``--client httpx`` streams it in 1 MiB pieces through httpx (~0.5 CPU-s per GiB, on the
core the node needs: the figures before 2026-12-07 13:00 UTC). The whole file goes in one
PATCH unless ``--chunk`` says otherwise: tus-js-client and Uppy send a file in one PATCH
by default (``chunkSize: Infinity``; their documentation advises a chunk size only where a
proxy limits request bodies), so that is the upload a browser makes; ``--chunk 32MiB`` adds
one request's Python and database work (authentication, the upload's row) per 32 MiB.
Baselines on the same disk, from the same cached source, alternating with the uploads
(``--rounds``): ``cp``; ``cp`` then ``fsync`` of the copy; a Python read+write copy in 1 MiB
pieces; and BLAKE3 over the file (the content digest the upload computes:
``persistence/blobs/digest.py``). Every timed run starts with no dirty pages (``os.sync()``)
and its output is deleted after it. The source is on the same filesystem (reported: ``ext4`` or
``tmpfs``...) and warm (page-cached) for every copy and upload alike. Reported: MB/s (10^6
bytes per second) of each, CPU seconds per GiB (a copy's: this process's and ``cp``'s; the
upload's: the node's and the client's), the ratio of the upload to each baseline (target:
>= 0.7 of the copy on the disk, ``cp`` then ``fsync``: a finished upload's bytes are on the
disk before it is answered, while a plain ``cp`` returns with them in the page cache, at up
to twice the speed this disk writes; the ratio to ``cp`` is reported beside it), and the
node process's memory
during the upload: VmRSS sampled every 10 ms (peak minus the value before the upload:
target < 50 MB) and VmHWM before and after.

**Serving.** ``--files`` files of 1 MiB (HLS-segment-like) are uploaded through tus; each
gets a signed link (``POST /api/v1/files/{id}/link``). nginx (Debian's ``/usr/sbin/nginx``,
a temporary configuration: ``master_process off``, one process, ``access_log off``,
``sendfile on``) serves the node's blob directory on another free port. The same load
generator, ``wrk`` (Debian's), with one thread and ``--connections`` keep-alive connections,
cycles through the files for ``--duration`` seconds: whole files, then the ranged read
``Range: bytes=100000-300000`` (206, 200,001 bytes). Both servers are single processes
(the node is one uvicorn process with its event loop; nginx has no master and one worker).
Per server and workload: requests/s, CPU seconds per 1,000 requests of the server process
(/proc/PID/stat utime+stime before and after), wrk's own CPU, p50/p99 latency, errors;
rounds alternate the servers and the median is reported with the ratio ours/nginx
(target: >= 0.5). Both answers are checked byte for byte first.

Needs nginx and wrk (Debian: ``apt-get install -y nginx wrk``); prints one JSON object.

    flock /tmp/liveclass-bench.lock python bench/content_upload.py              # ~3 minutes
    flock /tmp/liveclass-bench.lock python bench/content_upload.py --size 2GiB
    flock /tmp/liveclass-bench.lock python bench/content_upload.py --quick      # smoke run
    python bench/content_upload.py --parts serving --root ../other-checkout     # its node

Results and what they mean: docs/benchmarks.md, "Content: uploads and file serving".
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import benchpath  # noqa: F401  (the tree and its kits on sys.path)
import httpx
import orjson
from blake3 import blake3

from kits.bench import BenchNode, bearer, progress
from kits.rawhttp import Response, SocketAnswers, request_head
from kits.servers import ROOT, free_port
from kits.stats import cpu_seconds, machine_busy_seconds, rss_bytes

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
WRK = os.environ.get("WRK", shutil.which("wrk") or "/usr/bin/wrk")
TUS = {"Tus-Resumable": "1.0.0"}
PIECE = 1 << 20
MiB = 1 << 20
RANGE = "bytes=100000-300000"
SEGMENT = MiB
UNITS = {"": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "mb": 10**6, "gb": 10**9}


def parse_size(text: str) -> int:
    """``1GiB``, ``512MiB``, ``2GB`` or a number of bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    if match is None or match.group(2).lower() not in UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 1GiB, 512MiB, 2GB)")
    return int(float(match.group(1)) * UNITS[match.group(2).lower()])


def mb_per_s(size: int, seconds: float) -> float:
    return round(size / 1e6 / seconds, 1)


def timed(action: Callable[[], object], cpu: list[float] | None = None) -> float:
    """Wall seconds of ``action``, started with no dirty pages (``sync`` first); its CPU
    seconds (this process's and its children's, e.g. ``cp``) appended to ``cpu``."""
    os.sync()
    cpu_before = own_and_children_cpu()
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    if cpu is not None:
        cpu.append(own_and_children_cpu() - cpu_before)
    return seconds


def own_and_children_cpu() -> float:
    """User + system CPU seconds of this process and its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def filesystem(path: Path) -> str:
    """The type of the filesystem holding ``path`` (``ext4``, ``tmpfs``...)."""
    found = subprocess.run(
        ["df", "--output=fstype", str(path)], capture_output=True, text=True, check=False
    )
    return found.stdout.split()[-1] if found.returncode == 0 else "unknown"


# ------------------------------------------------------------------ the upload


def write_source(path: Path, size: int) -> None:
    """``size`` random bytes (so no layer can compress or deduplicate them)."""
    block = os.urandom(16 * MiB)
    with path.open("wb") as out:
        left = size
        while left:
            piece = block[: min(left, len(block))]
            out.write(piece)
            left -= len(piece)
            block = hashlib.sha512(block[:64]).digest() + block[64:]  # no two blocks equal


def digest_file(path: Path) -> str:
    """The file's content digest, as the node computes it (BLAKE3)."""
    digest = blake3()
    with path.open("rb") as source:
        while chunk := source.read(PIECE):
            digest.update(chunk)
    return digest.hexdigest()


def python_copy(source: Path, target: Path) -> None:
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(PIECE):
            dst.write(chunk)


def cp(source: Path, target: Path) -> None:
    subprocess.run(["cp", str(source), str(target)], check=True)


def cp_fsync(source: Path, target: Path) -> None:
    """``cp``, then the copy's bytes flushed to the disk (as a finished upload's are)."""
    cp(source, target)
    fsync_file(target)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PeakRss:
    """VmRSS of ``pid`` sampled every ``interval`` seconds in a thread while in the block;
    VmHWM (the kernel's peak since the process started) before and after."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid = pid
        self.interval = interval
        self.before = self.peak = self.hwm_before = self.hwm_after = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self.before = self.peak = rss_bytes(self.pid)
        self.hwm_before = rss_bytes(self.pid, "VmHWM")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes(self.pid))
        self.hwm_after = rss_bytes(self.pid, "VmHWM")

    def figures(self) -> dict[str, Any]:
        return {
            "rss_before_mb": round(self.before / MiB, 1),
            "rss_peak_mb": round(self.peak / MiB, 1),
            "rss_growth_mb": round((self.peak - self.before) / MiB, 1),
            "hwm_before_mb": round(self.hwm_before / MiB, 1),
            "hwm_after_mb": round(self.hwm_after / MiB, 1),
            "samples": self.samples,
        }


def metadata(name: str) -> str:
    return f"filename {base64.b64encode(name.encode()).decode()}"


def pieces(source: Any, length: int) -> Iterator[bytes]:
    """The next ``length`` bytes of an open file, 1 MiB at a time."""
    left = length
    while left:
        chunk = source.read(min(PIECE, left))
        if not chunk:
            raise RuntimeError("the source file ended early")
        left -= len(chunk)
        yield chunk


def tus_upload(
    http: httpx.Client, token: str, course_id: str, source: Path, chunk: int, name: str
) -> tuple[float, httpx.Response]:
    """Upload ``source`` with tus (POST, then PATCHes of ``chunk`` bytes); the wall seconds
    and the answer to the last PATCH."""
    size = source.stat().st_size
    auth = bearer(token)
    started = time.perf_counter()
    made = http.post(
        f"/api/v1/courses/{course_id}/uploads",
        headers={**auth, **TUS, "Upload-Length": str(size), "Upload-Metadata": metadata(name)},
    )
    made.raise_for_status()
    location = made.headers["Location"]
    offset = 0
    answer = made
    with source.open("rb") as file:
        while offset < size:
            length = min(chunk, size - offset)
            answer = http.patch(
                location,
                content=pieces(file, length),
                headers={
                    **auth,
                    **TUS,
                    "Content-Type": "application/offset+octet-stream",
                    "Content-Length": str(length),
                    "Upload-Offset": str(offset),
                },
            )
            if answer.status_code != 204:
                raise RuntimeError(f"PATCH at {offset}: {answer.status_code} {answer.text}")
            offset = int(answer.headers["Upload-Offset"])
    return time.perf_counter() - started, answer


class SendfileTus:
    """A tus client on one keep-alive connection whose PATCH bodies go from the file to the
    socket with ``os.sendfile``: the kernel copies the page-cached bytes into the socket
    and no byte passes through Python (as ``curl --upload-file`` nearly does). httpx spent
    ~0.5 CPU-s per GiB streaming a body in 1 MiB pieces, on the core the node's reading
    thread needs; this client is the benchmark's, not the product's. Answers are parsed
    by ``kits.rawhttp``."""

    def __init__(self, url: str, token: str) -> None:
        address = httpx.URL(url)
        self.host, self.port = address.host, address.port or 80
        self.headers = {**bearer(token), **TUS}
        self.sock: socket.socket | None = None
        self.answers: SocketAnswers | None = None

    def request(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: tuple[int, int, int] | None = None,
    ) -> Response:
        """Send one request (``body``: a file descriptor, offset and length, sent with
        ``sendfile``; else none) and read its answer; a fresh connection if needed."""
        if self.sock is None or self.answers is None:
            self.sock = socket.create_connection((self.host, self.port))
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.answers = SocketAnswers(self.sock)
        length = 0 if body is None else body[2]
        head = {**self.headers, **headers, "content-length": str(length)}
        self.sock.sendall(request_head(method, target, f"{self.host}:{self.port}", head))
        if body is not None:
            fd, offset, left = body
            while left:
                sent = os.sendfile(self.sock.fileno(), fd, offset, left)
                if not sent:
                    raise RuntimeError("the source file ended early")
                offset += sent
                left -= sent
        answer = self.answers.next()
        if answer.headers.get("connection", "").lower() == "close":
            self.close()
        return answer

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = self.answers = None


def tus_upload_sendfile(
    client: SendfileTus, course_id: str, source: Path, chunk: int, name: str
) -> tuple[float, str]:
    """``tus_upload`` with ``SendfileTus``: the wall seconds and the file's location."""
    size = source.stat().st_size
    client.close()  # a fresh connection: the node closes one idle for 5 s
    started = time.perf_counter()
    made = client.request(
        "POST",
        f"/api/v1/courses/{course_id}/uploads",
        {"Upload-Length": str(size), "Upload-Metadata": metadata(name)},
    )
    if made.status != 201:
        raise RuntimeError(f"POST: {made.status} {made.body!r}")
    location = made.headers["location"]
    offset = 0
    answer = made
    with source.open("rb") as file:
        while offset < size:
            length = min(chunk, size - offset)
            answer = client.request(
                "PATCH",
                location,
                {
                    "Content-Type": "application/offset+octet-stream",
                    "Upload-Offset": str(offset),
                },
                (file.fileno(), offset, length),
            )
            if answer.status != 204:
                raise RuntimeError(f"PATCH at {offset}: {answer.status} {answer.body!r}")
            offset = int(answer.headers["upload-offset"])
    return time.perf_counter() - started, answer.headers["content-location"]


def create_course(node: BenchNode, title: str) -> str:
    made = node.http.post(
        "/api/v1/courses",
        json={"title": title, "code": f"B{time.monotonic_ns()}"},
        headers=bearer(node.admin_token),
    )
    made.raise_for_status()
    return str(made.json()["id"])


def measure_upload(
    node: BenchNode, work: Path, size: int, chunk: int, rounds: int, client: str
) -> dict[str, Any]:
    """The upload against the copies, alternating, ``rounds`` times each."""
    source = work / "source.bin"
    progress(f"writing a {size / MiB:.0f} MiB source file")
    write_source(source, size)
    expected = digest_file(source)  # also leaves the source in the page cache
    course_id = create_course(node, "Upload benchmark")
    http = httpx.Client(base_url=node.url, timeout=600)
    raw = SendfileTus(node.url, node.admin_token)
    copy = work / "copy.bin"
    runs: dict[str, list[float]] = {
        "cp": [],
        "cp_fsync": [],
        "python_copy": [],
        "blake3": [],
        "upload": [],
    }
    memory: list[dict[str, Any]] = []
    cpu: list[dict[str, float]] = []
    copies_cpu: dict[str, list[float]] = {name: [] for name in runs if name != "upload"}
    try:
        for round_ in range(rounds):
            progress(f"upload round {round_ + 1}/{rounds}: cp, cp+fsync, python copy, blake3")
            runs["cp"].append(timed(lambda: cp(source, copy), copies_cpu["cp"]))
            copy.unlink()
            runs["cp_fsync"].append(timed(lambda: cp_fsync(source, copy), copies_cpu["cp_fsync"]))
            copy.unlink()
            runs["python_copy"].append(
                timed(lambda: python_copy(source, copy), copies_cpu["python_copy"])
            )
            copy.unlink()
            runs["blake3"].append(timed(lambda: digest_file(source), copies_cpu["blake3"]))
            progress(f"upload round {round_ + 1}/{rounds}: tus upload through the node")
            os.sync()
            server_cpu, client_cpu = cpu_seconds(node.pid), cpu_seconds()
            with PeakRss(node.pid) as rss:
                if client == "httpx":
                    seconds, last = tus_upload(
                        http, node.admin_token, course_id, source, chunk, "lecture.bin"
                    )
                    location = last.headers["Content-Location"]
                else:
                    seconds, location = tus_upload_sendfile(
                        raw, course_id, source, chunk, "lecture.bin"
                    )
            cpu.append(
                {
                    "server_cpu_s": round(cpu_seconds(node.pid) - server_cpu, 2),
                    "client_cpu_s": round(cpu_seconds() - client_cpu, 2),
                }
            )
            runs["upload"].append(seconds)
            memory.append(rss.figures())
            file = http.get(location, headers=bearer(node.admin_token))
            file.raise_for_status()
            if file.json()["blake3"] != expected or file.json()["size"] != size:
                raise RuntimeError(f"the uploaded file differs: {file.json()}")
            gone = http.delete(location, headers=bearer(node.admin_token))
            gone.raise_for_status()  # its blob goes too: every round moves a new one in
    finally:
        http.close()
        raw.close()
        source.unlink(missing_ok=True)
        copy.unlink(missing_ok=True)
    rates = {k: [mb_per_s(size, s) for s in v] for k, v in runs.items()}
    gib = size / (1 << 30)
    per_gib = {
        **{name: [round(c / gib, 2) for c in spent] for name, spent in copies_cpu.items()},
        "upload_node": [round(c["server_cpu_s"] / gib, 2) for c in cpu],
        "upload_client": [round(c["client_cpu_s"] / gib, 2) for c in cpu],
    }
    best = {k: max(v) for k, v in rates.items()}
    median = {k: round(statistics.median(v), 1) for k, v in rates.items()}
    return {
        "size_bytes": size,
        "chunk_bytes": chunk,
        "client": client,
        "rounds": rounds,
        "mb_per_s": rates,
        "median_mb_per_s": median,
        "best_mb_per_s": best,
        "ratio_to_cp": round(median["upload"] / median["cp"], 2),
        "ratio_to_cp_fsync": round(median["upload"] / median["cp_fsync"], 2),
        "ratio_to_python_copy": round(median["upload"] / median["python_copy"], 2),
        "ratio_to_blake3": round(median["upload"] / median["blake3"], 2),
        "cpu": cpu,
        "cpu_s_per_gib": per_gib,
        "median_cpu_s_per_gib": {k: round(statistics.median(v), 2) for k, v in per_gib.items()},
        "disk": {
            "filesystem": filesystem(work),
            "source_cache": "warm: the source is read once after it is written, every "
            "copy and upload reads it from the page cache",
            "dirty_pages_at_start": "none: os.sync() before every timed run",
        },
        "server_memory": memory,
        "server_rss_growth_mb_max": max(m["rss_growth_mb"] for m in memory),
    }


# ------------------------------------------------------------------ serving


NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{
            add_header Cache-Control "public, max-age=31536000, immutable";
        }}
    }}
}}
"""


class Nginx:
    """nginx in one process (no master) serving ``root`` on a free port."""

    def __init__(self, root: Path, tmp: Path) -> None:
        self.root, self.tmp = root, tmp
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> Nginx:
        self.tmp.mkdir(parents=True, exist_ok=True)
        conf = self.tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=self.tmp, port=self.port, root=self.root))
        log = (self.tmp / "nginx-stderr.log").open("wb")
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.tmp), "-c", str(conf), "-e", str(self.tmp / "nginx-error.log")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.tmp / 'nginx-stderr.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not listen") from None
                time.sleep(0.05)
        progress(f"nginx: pid {self.pid}, port {self.port}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


WRK_SCRIPT = """
local paths = {%(paths)s}
local range = %(range)s
local i = 0
request = function()
  i = i + 1
  if i > #paths then i = 1 end
  local headers = {}
  if range then headers["Range"] = range end
  return wrk.format("GET", paths[i], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%%d,"duration_us":%%d,"bytes":%%d,"errors":{"connect":%%d,' ..
    '"read":%%d,"write":%%d,"status":%%d,"timeout":%%d},"p50_us":%%d,"p99_us":%%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk(
    url: str,
    paths: list[str],
    ranged: bool,
    pid: int,
    *,
    seconds: float,
    connections: int,
    script_dir: Path,
) -> dict[str, Any]:
    """One wrk run against ``url``: rates, the server process's CPU, wrk's own CPU."""
    script = script_dir / f"wrk-{time.monotonic_ns()}.lua"
    script.write_text(
        WRK_SCRIPT
        % {
            "paths": ", ".join(lua_string(p) for p in paths),
            "range": lua_string(RANGE) if ranged else "nil",
        }
    )
    command = [
        WRK, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(script), url,
    ]  # fmt: skip
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before, busy_before = cpu_seconds(pid), machine_busy_seconds()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    server_cpu = cpu_seconds(pid) - server_before
    busy = machine_busy_seconds() - busy_before
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    script.unlink()
    found = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not found:
        raise RuntimeError(f"wrk failed: {done.stdout}\n{done.stderr}")
    result = orjson.loads(found[0].removeprefix("RESULT "))
    requests, wall = result["requests"], result["duration_us"] / 1e6
    errors = {k: v for k, v in result["errors"].items() if v}
    return {
        "requests_per_s": round(requests / wall, 1),
        "requests": requests,
        "bytes_per_response": round(result["bytes"] / max(requests, 1)),
        "server_cpu_s_per_1000": round(server_cpu / max(requests, 1) * 1000, 3),
        "server_cpu_share": round(server_cpu / wall, 2),
        "wrk_cpu_share": round(wrk_cpu / wall, 2),
        "machine_busy_share": round(busy / wall, 2),
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "errors": errors,
    }


def check_same_bytes(ours: str, nginx: str, link: str, path: str, data: bytes) -> None:
    """Both servers answer the same bytes, whole and for the benchmark's range."""
    with httpx.Client(timeout=30) as http:
        for base, target in ((ours, link), (nginx, path)):
            whole = http.get(base + target)
            if whole.status_code != 200 or whole.content != data:
                raise RuntimeError(f"{base}{target}: {whole.status_code}, wrong bytes")
            part = http.get(base + target, headers={"Range": RANGE})
            if part.status_code != 206 or part.content != data[100_000:300_001]:
                raise RuntimeError(f"{base}{target} ranged: {part.status_code}, wrong bytes")


def measure_serving(
    node: BenchNode, work: Path, files: int, seconds: float, connections: int, rounds: int
) -> dict[str, Any]:
    """Signed /blobs/ links against nginx on the same files, whole and ranged."""
    course_id = create_course(node, "Serving benchmark")
    auth = bearer(node.admin_token)
    links, paths, contents = [], [], []
    progress(f"uploading {files} files of 1 MiB")
    with httpx.Client(base_url=node.url, timeout=60) as http:
        for index in range(files):
            data = os.urandom(SEGMENT)
            source = work / f"segment{index}.m4s"
            source.write_bytes(data)
            _, last = tus_upload(http, node.admin_token, course_id, source, SEGMENT, source.name)
            source.unlink()
            file_id = last.headers["Content-Location"].rsplit("/", 1)[1]
            made = http.post(f"/api/v1/files/{file_id}/link", headers=auth, json={})
            made.raise_for_status()
            links.append(str(made.json()["url"]))
            key = links[-1].split("?", 1)[0].removeprefix("/blobs/")
            paths.append("/" + key)
            contents.append(data)
    blobs = node.server.data_dir.resolve() / "blobs"
    results: dict[str, dict[str, list[dict[str, Any]]]] = {
        "whole": {"ours": [], "nginx": []},
        "ranged": {"ours": [], "nginx": []},
    }
    with Nginx(blobs, work / "nginx") as nginx:
        check_same_bytes(node.url, nginx.url, links[0], paths[0], contents[0])
        servers = {
            "ours": (node.url, links, node.pid),
            "nginx": (nginx.url, paths, nginx.pid),
        }
        for name, (url, targets, pid) in servers.items():
            progress(f"warming up {name}")
            wrk(url, targets, False, pid, seconds=2, connections=connections, script_dir=work)
        for round_ in range(rounds):
            for workload in ("whole", "ranged"):
                order = ("ours", "nginx") if round_ % 2 == 0 else ("nginx", "ours")
                for name in order:
                    url, targets, pid = servers[name]
                    progress(f"round {round_ + 1}/{rounds}: {workload} files from {name}")
                    results[workload][name].append(
                        wrk(
                            url,
                            targets,
                            workload == "ranged",
                            pid,
                            seconds=seconds,
                            connections=connections,
                            script_dir=work,
                        )
                    )
    summary: dict[str, Any] = {
        "files": files,
        "file_bytes": SEGMENT,
        "range": RANGE,
        "connections": connections,
        "seconds_per_run": seconds,
        "rounds": rounds,
    }
    for workload, by_server in results.items():
        medians = {
            name: {
                "requests_per_s": statistics.median(r["requests_per_s"] for r in runs),
                "server_cpu_s_per_1000": statistics.median(
                    r["server_cpu_s_per_1000"] for r in runs
                ),
            }
            for name, runs in by_server.items()
        }
        summary[workload] = {
            "runs": by_server,
            "median": medians,
            "ratio_requests_per_s": round(
                medians["ours"]["requests_per_s"] / medians["nginx"]["requests_per_s"], 2
            ),
            "ratio_cpu_per_request": round(
                medians["ours"]["server_cpu_s_per_1000"]
                / medians["nginx"]["server_cpu_s_per_1000"],
                2,
            ),
        }
    return summary


# ------------------------------------------------------------------ the run


def targets(report: dict[str, Any]) -> dict[str, Any]:
    """The issue's targets against the figures: upload >= 0.7 of the copy on the disk (``cp``
    then ``fsync``: a finished upload is on the disk when it is answered, a plain ``cp``
    returns with its bytes in memory) and RSS growth under 50 MB; serving >= 0.5 of nginx's
    requests/s."""
    found: dict[str, Any] = {}
    if "upload" in report:
        upload = report["upload"]
        ratio = upload["ratio_to_cp_fsync"]
        found["upload_ratio_to_cp_fsync"] = [ratio, ratio >= 0.7]
        growth = upload["server_rss_growth_mb_max"]
        found["upload_rss_growth_mb"] = [growth, growth < 50]
    if "serving" in report:
        for workload in ("whole", "ranged"):
            ratio = report["serving"][workload]["ratio_requests_per_s"]
            found[f"serving_{workload}_ratio_to_nginx"] = [ratio, ratio >= 0.5]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (64 MiB, short runs)")
    parser.add_argument("--size", type=parse_size, help="upload size (default 1GiB)")
    parser.add_argument(
        "--chunk", type=parse_size, help="PATCH size (default: the whole file in one PATCH)"
    )
    parser.add_argument(
        "--client",
        choices=("sendfile", "httpx"),
        default="sendfile",
        help="the upload's client: sendfile over a raw socket (default) or httpx",
    )
    parser.add_argument("--rounds", type=int, help="rounds of each measurement (default 3)")
    parser.add_argument("--files", type=int, default=16, help="1 MiB files to serve")
    parser.add_argument("--duration", type=float, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--parts", default="upload,serving", help="what to measure: upload, serving or both"
    )
    parser.add_argument("--workdir", type=Path, help="where the temporary folder goes")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="liveclass tree to run (default: this one)"
    )
    args = parser.parse_args()
    size = args.size or (64 * MiB if args.quick else 1 << 30)
    rounds = args.rounds or (1 if args.quick else 3)
    duration = args.duration or (2.0 if args.quick else 10.0)
    parts = {p.strip() for p in args.parts.split(",")}
    for tool in (NGINX, WRK) if "serving" in parts else ():
        if not Path(tool).exists():
            sys.exit(f"{tool} is missing: apt-get install -y nginx wrk")
    report: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_before": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "tree": str(args.root.resolve()),
            "commit": subprocess.run(
                ["git", "-C", str(args.root), "rev-parse", "--short", "HEAD"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip(),
            "nginx": subprocess.run(
                [NGINX, "-v"], capture_output=True, text=True, check=False
            ).stderr.strip(),
        },
    }
    with tempfile.TemporaryDirectory(prefix="bench-upload-", dir=args.workdir) as tmp:
        work = Path(tmp)
        env = {
            "LIVECLASS_UPLOAD_MAX_FILE_BYTES": str(max(size, 1 << 30)),
            "LIVECLASS_UPLOAD_COURSE_QUOTA_BYTES": str(4 * size + (1 << 30)),
            "LIVECLASS_FILE_LINK_TTL_SECONDS": "7200",
        }
        with BenchNode(work / "data", env, root=args.root.resolve()) as node:
            if "upload" in parts:
                chunk = args.chunk or size
                report["upload"] = measure_upload(node, work, size, chunk, rounds, args.client)
            if "serving" in parts:
                report["serving"] = measure_serving(
                    node, work, args.files, duration, args.connections, rounds
                )
            report["node_errors"] = node.log_errors()
    report["targets"] = targets(report)
    report["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    main()
