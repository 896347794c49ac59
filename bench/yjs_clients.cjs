// Stock y-websocket clients for bench/yjs_sync.py.
//
// One process runs some of the benchmark's unmodified WebsocketProvider clients (each on its
// own Y.Doc, `ws` as the WebSocket, BroadcastChannel off); the bench splits the clients over
// several such processes so that the client side is not the bottleneck. Config is one JSON
// argument:
//   {"url": "ws://…", "room": "…", "tokens": ["…"] | null, "clients": 5, "offset": 0,
//    "total_clients": 30, "edits": 200, "timeout": 120, "barrier": true, "pattern": "scattered"}
// `tokens` has one entry per local client (null: no auth, `clients` of them); `offset` is
// the global index of the first local client, so every client's pieces are unique. Each
// client inserts `edits` small strings into the shared Y.Text "notes", one update per edit,
// yielding to the event loop between edits. With `barrier`, the process prints
// {"ready": …} once its clients are synced and starts editing when a line arrives on stdin.
// It then waits until its clients hold all `total_clients * edits` edits and prints one
// JSON line of results: epoch milliseconds of start, writes done and convergence, the
// process's own CPU seconds over that span, and a hash of the text to compare processes.
'use strict'

const crypto = require('crypto')
const readline = require('readline')
const Y = require('yjs')
const { WebsocketProvider } = require('y-websocket')
const WebSocket = require('ws')

const cfg = JSON.parse(process.argv[2])
const n = cfg.tokens ? cfg.tokens.length : cfg.clients
const offset = cfg.offset || 0
const total = cfg.total_clients || n
const edits = cfg.edits
const deadline = Date.now() + (cfg.timeout || 120) * 1000
const nowMs = () => performance.timeOrigin + performance.now()

const clients = []
for (let i = 0; i < n; i++) {
  const doc = new Y.Doc()
  const token = cfg.tokens ? cfg.tokens[i] : null
  const provider = new WebsocketProvider(cfg.url, cfg.room, doc, {
    WebSocketPolyfill: WebSocket,
    params: token ? { token } : {},
    disableBc: true,
    maxBackoffTime: 500
  })
  clients.push({ doc, provider, text: doc.getText('notes') })
}

const tick = () => new Promise((resolve) => setImmediate(resolve))
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function until (predicate, what) {
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(2)
  }
}

function go () {
  if (!cfg.barrier) return Promise.resolve()
  const lines = readline.createInterface({ input: process.stdin })
  return new Promise((resolve) => lines.once('line', () => { lines.close(); resolve() }))
}

// A small deterministic PRNG (mulberry32), so a typing trace is the same in every run.
function prng (seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// "typing" (B4-like, as in the real-world editing trace of the CRDT benchmarks): one
// character per update at a cursor that mostly moves on, ~30% backspaces and an occasional
// jump elsewhere. Returns the text length it added. Only meaningful with one writer.
async function typist (c, i) {
  const random = prng(i + 1)
  let cursor = c.text.length
  const start = cursor
  for (let j = 0; j < edits; j++) {
    const roll = random()
    if (roll < 0.02) cursor = Math.floor(random() * (c.text.length + 1))
    if (roll >= 0.02 && roll < 0.32 && cursor > 0) {
      c.text.delete(cursor - 1, 1)
      cursor--
    } else {
      c.text.insert(cursor, String.fromCharCode(97 + Math.floor(random() * 26)))
      cursor++
    }
    await tick()
  }
  return c.text.length - start
}

async function writer (c, i) {
  if (cfg.pattern === 'typing') return typist(c, i)
  for (let j = 0; j < edits; j++) {
    const piece = `${i}.${j};`
    // Small inserts at varying positions so the document is not a plain append log.
    const len = c.text.length
    c.text.insert(len === 0 ? 0 : (j * 7919 + i) % (len + 1), piece)
    await tick()
  }
}

// A typist's own text is complete at once: to know the server has every edit, a fresh
// client syncs from it and must see the same length.
async function serverHolds (want) {
  const doc = new Y.Doc()
  const token = cfg.tokens ? cfg.tokens[0] : null
  const provider = new WebsocketProvider(cfg.url, cfg.room, doc, {
    WebSocketPolyfill: WebSocket,
    params: token ? { token } : {},
    disableBc: true
  })
  const text = doc.getText('notes')
  await until(() => provider.synced && text.length === want, 'the server to hold every edit')
  provider.destroy()
}

async function main () {
  let expected = 0
  for (let i = 0; i < total; i++) for (let j = 0; j < edits; j++) expected += `${i}.${j};`.length
  const t0 = Date.now()
  await until(() => clients.every((c) => c.provider.synced), 'initial sync')
  const syncS = (Date.now() - t0) / 1000
  const base = clients[0].text.length
  if (cfg.barrier) process.stdout.write(JSON.stringify({ ready: true, connect_sync_s: syncS }) + '\n')
  await go()
  const cpu0 = process.cpuUsage()
  const tStart = nowMs()
  const added = await Promise.all(clients.map((c, i) => writer(c, offset + i)))
  const tWritten = nowMs()
  const want = cfg.pattern === 'typing' ? base + added.reduce((a, b) => a + b, 0) : base + expected
  await until(() => clients.every((c) => c.text.length >= want), 'convergence')
  if (cfg.pattern === 'typing' && !cfg.no_verify) await serverHolds(want)
  const tConverged = nowMs()
  const cpu = process.cpuUsage(cpu0)
  const first = clients[0].text.toString()
  // No deletes, so every client holding the same string of the full length has every edit.
  const equal = clients.every((c) => c.text.toString() === first)
  const out = {
    clients: n,
    edits_per_client: edits,
    connect_sync_s: syncS,
    start_ms: tStart,
    written_ms: tWritten,
    converged_ms: tConverged,
    write_s: (tWritten - tStart) / 1000,
    converge_s: (tConverged - tStart) / 1000,
    cpu_s: (cpu.user + cpu.system) / 1e6,
    equal,
    complete: equal && first.length === want,
    text_length: first.length,
    text_sha1: crypto.createHash('sha1').update(first).digest('hex'),
    update_bytes: Y.encodeStateAsUpdate(clients[0].doc).length
  }
  for (const c of clients) c.provider.destroy()
  process.stdout.write(JSON.stringify(out) + '\n')
  setTimeout(() => process.exit(0), 100)
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String(err && err.message ? err.message : err) }) + '\n')
  process.exit(1)
})
