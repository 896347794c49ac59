// Stock Yjs clients for the interop tests, driven by pytest over stdin/stdout.
//
// Every client is an unmodified `y-websocket` WebsocketProvider on its own Y.Doc, with
// `ws` as its WebSocket and the cross-tab BroadcastChannel off, so everything it learns
// comes from the server. pytest writes one JSON command per line:
//   {"id": 1, "op": "open", "client": "a", "url": "ws://…/yjs", "room": "rooms/…/notes",
//    "token": "…"}
// and gets one JSON line back: {"id": 1, "ok": true, "result": …} or {"id": 1, "ok": false,
// "error": "…"}. Waits ("wait") are event-driven with a deadline; they never sleep-and-hope.
'use strict'

const readline = require('node:readline')
const Y = require('yjs')
const { WebsocketProvider, messageAuth } = require('y-websocket')
const decoding = require('lib0/decoding')
const WebSocket = require('ws')

const clients = new Map()

function client (name) {
  const found = clients.get(name)
  if (!found) throw new Error(`no client ${name}`)
  return found
}

function open ({ client: name, url, room, token, connect = true, awareness = null, text = 'notes' }) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(url, room, doc, {
    WebSocketPolyfill: WebSocket,
    params: token ? { token } : {},
    disableBc: true,
    connect,
    maxBackoffTime: 500
  })
  const entry = { doc, provider, closes: [], denied: [], syncs: 0, connects: 0, textName: text }
  // The stock auth handler only logs; record the reason so tests can see the signal.
  provider.messageHandlers[messageAuth] = (_encoder, decoder) => {
    decoding.readVarUint(decoder) // permission denied
    entry.denied.push(decoding.readVarString(decoder))
  }
  provider.on('connection-close', (event) => {
    entry.closes.push(event ? { code: event.code, reason: String(event.reason || '') } : null)
    // What an app does with a close code it must not retry on: stop reconnecting.
    if (event && [1002, 1003, 1009, 4001, 4003, 4004, 4010, 4030].includes(event.code)) {
      provider.shouldConnect = false
    }
  })
  provider.on('sync', (synced) => { if (synced) entry.syncs++ })
  provider.on('status', ({ status }) => { if (status === 'connected') entry.connects++ })
  if (awareness) provider.awareness.setLocalState(awareness)
  clients.set(name, entry)
  return { clientID: doc.clientID }
}

function state (name) {
  const { doc, provider, closes, denied, syncs, connects, textName } = client(name)
  const peers = {}
  provider.awareness.getStates().forEach((value, id) => {
    if (id !== doc.clientID) peers[id] = value
  })
  return {
    clientID: doc.clientID,
    text: doc.getText(textName).toString(),
    shapes: doc.getMap('shapes').toJSON(),
    synced: provider.synced,
    connected: provider.wsconnected,
    peers,
    closes,
    denied,
    syncs,
    connects,
    update: Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64')
  }
}

// Conditions a "wait" can hold out for; each gets the client's state.
const conditions = {
  synced: (s) => s.synced,
  textIncludes: (s, arg) => arg.every((part) => s.text.includes(part)),
  textEquals: (s, arg) => s.text === arg,
  textExcludes: (s, arg) => arg.every((part) => !s.text.includes(part)),
  shapes: (s, arg) => arg.every((key) => key in s.shapes),
  peer: (s, arg) => Object.values(s.peers).some((p) => p && p.user === arg),
  noPeer: (s, arg) => !Object.values(s.peers).some((p) => p && p.user === arg),
  closed: (s, arg) => s.closes.some((c) => c && c.code === arg),
  denied: (s, arg) => s.denied.length >= arg,
  connects: (s, arg) => s.connects >= arg,
  syncs: (s, arg) => s.syncs >= arg,
  minTokens: (s, arg) => s.text.split(';').length - 1 >= arg,
  disconnected: (s, arg) => s.connected === !arg
}

function wait ({ client: name, until, timeout = 30000 }) {
  const deadline = Date.now() + timeout
  return new Promise((resolve, reject) => {
    const check = () => {
      let current
      try {
        current = state(name)
      } catch (err) {
        return reject(err)
      }
      const ok = Object.entries(until).every(([key, arg]) => conditions[key](current, arg))
      if (ok) return resolve(current)
      if (Date.now() > deadline) {
        return reject(new Error(`timed out waiting for ${JSON.stringify(until)} on ${name}: ` +
          JSON.stringify({ ...current, update: undefined })))
      }
      setTimeout(check, 20)
    }
    check()
  })
}

async function edit ({ client: name, insert, at, remove, shape, count = 1, prefix }) {
  const { doc, textName } = client(name)
  const text = doc.getText(textName)
  if (prefix !== undefined) {
    // A burst of separate edits, each its own update and message, yielding between them.
    for (let i = 0; i < count; i++) {
      text.insert(at === undefined ? text.length : Math.min(at, text.length), `${prefix}${i};`)
      if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve))
    }
    return state(name)
  }
  if (insert !== undefined) text.insert(at === undefined ? text.length : at, insert)
  if (remove !== undefined) text.delete(remove[0], remove[1])
  if (shape !== undefined) {
    const fields = new Y.Map()
    for (const [key, value] of Object.entries(shape.fields)) fields.set(key, value)
    doc.getMap('shapes').set(shape.id, fields)
  }
  return state(name)
}

// A writer that keeps inserting tokens until told to stop (for the kill -9 test).
function stream ({ client: name, prefix, every = 5 }) {
  const entry = client(name)
  let i = 0
  entry.stream = setInterval(() => {
    entry.doc.getText('notes').insert(entry.doc.getText('notes').length, `${prefix}${i++};`)
  }, every)
  return {}
}

const ops = {
  open,
  state: ({ client: name }) => state(name),
  wait,
  edit,
  stream,
  awareness: ({ client: name, value }) => {
    client(name).provider.awareness.setLocalState(value)
    return {}
  },
  disconnect: ({ client: name }) => {
    client(name).provider.disconnect()
    return {}
  },
  connect: ({ client: name, token }) => {
    const { provider } = client(name)
    if (token) provider.params = { token }
    provider.connect()
    return {}
  },
  destroy: ({ client: name }) => {
    const entry = client(name)
    if (entry.stream) clearInterval(entry.stream)
    entry.provider.destroy()
    clients.delete(name)
    return {}
  },
  // Send raw bytes on the client's socket (base64), as a misbehaving client would.
  raw: ({ client: name, data }) => {
    client(name).provider.ws.send(Buffer.from(data, 'base64'))
    return {}
  },
  // Run several operations at once (clients editing concurrently), answer when all are done.
  many: ({ ops: list }) => Promise.all(list.map((command) => ops[command.op](command))),
  exit: () => {
    for (const name of [...clients.keys()]) ops.destroy({ client: name })
    setImmediate(() => process.exit(0))
    return {}
  }
}

const lines = readline.createInterface({ input: process.stdin })
lines.on('line', async (line) => {
  let command
  try {
    command = JSON.parse(line)
  } catch (err) {
    process.stdout.write(JSON.stringify({ id: null, ok: false, error: String(err) }) + '\n')
    return
  }
  try {
    const result = await ops[command.op](command)
    process.stdout.write(JSON.stringify({ id: command.id, ok: true, result }) + '\n')
  } catch (err) {
    process.stdout.write(JSON.stringify({ id: command.id, ok: false, error: String(err && err.stack || err) }) + '\n')
  }
})
lines.on('close', () => process.exit(0))
