// Stock y-websocket clients for bench/yjs_sync.py.
//
// One process runs N unmodified WebsocketProvider clients (each on its own Y.Doc, `ws` as
// the WebSocket, BroadcastChannel off). Config is one JSON argument:
//   {"url": "ws://…", "room": "…", "tokens": ["…"] | null, "edits": 200, "timeout": 120}
// `tokens` has one entry per client (null: no auth, N from "clients"). Each client inserts
// `edits` small strings into the shared Y.Text "notes", one update per edit, yielding to
// the event loop between edits. Prints one JSON line with timings and exits.
'use strict'

const Y = require('yjs')
const { WebsocketProvider } = require('y-websocket')
const WebSocket = require('ws')

const cfg = JSON.parse(process.argv[2])
const n = cfg.tokens ? cfg.tokens.length : cfg.clients
const edits = cfg.edits
const deadline = Date.now() + (cfg.timeout || 120) * 1000

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
    await sleep(5)
  }
}

async function writer (c, i) {
  for (let j = 0; j < edits; j++) {
    const piece = `${i}.${j};`
    // Small inserts at varying positions so the document is not a plain append log.
    const len = c.text.length
    c.text.insert(len === 0 ? 0 : (j * 7919 + i) % (len + 1), piece)
    await tick()
  }
}

async function main () {
  let expected = 0
  for (let i = 0; i < n; i++) for (let j = 0; j < edits; j++) expected += `${i}.${j};`.length
  const t0 = Date.now()
  await until(() => clients.every((c) => c.provider.synced), 'initial sync')
  const syncS = (Date.now() - t0) / 1000
  const base = clients[0].text.length
  const tStart = process.hrtime.bigint()
  await Promise.all(clients.map((c, i) => writer(c, i)))
  const tWritten = process.hrtime.bigint()
  const total = base + expected
  await until(() => clients.every((c) => c.text.length >= total), 'convergence')
  const tConverged = process.hrtime.bigint()
  const first = clients[0].text.toString()
  // No deletes, so every client holding the same string of the full length has every edit.
  const equal = clients.every((c) => c.text.toString() === first)
  const complete = equal && first.length === total
  const out = {
    clients: n,
    edits_per_client: edits,
    connect_sync_s: syncS,
    write_s: Number(tWritten - tStart) / 1e9,
    converge_s: Number(tConverged - tStart) / 1e9,
    equal,
    complete,
    text_length: first.length,
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
