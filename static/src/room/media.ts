// The WebRTC side of the room (docs/protocol.md, "Media"): a publisher peer connection that
// sends this browser's camera, microphone and screen to the server, and a subscriber peer
// connection that the server feeds with everyone else's tracks. All signalling rides the
// room channel; aiortc does not trickle ICE, so every SDP waits for gathering to finish.

import { CommandError, type Message } from './connection'
import { capture, deviceError, preferCodecs } from './devices'

export type Source = 'camera' | 'microphone' | 'screen'

/** A published track as the room announces it (media.track_published, the snapshot). */
export interface TrackInfo {
  track_id: string
  user_id: string
  conn_id: string
  kind: 'audio' | 'video'
  source: Source
}

/** A track this browser receives, and what it carries. */
export interface RemoteTrack {
  info: TrackInfo
  track: MediaStreamTrack
}

export interface MediaHandlers {
  /** Something to tell the person (a host stopped the camera, a device failed). */
  notice(text: string, kind: 'info' | 'error'): void
  /** The local sources or the remote tracks changed: re-render tiles and buttons. */
  changed(): void
  /** Our own published sources changed, for the participant status others see. */
  status(source: Source, on: boolean): void
}

export interface Signal {
  send(message: Record<string, unknown>): Promise<Message>
}

const GRANT: Record<Source, string> = { camera: 'publish_video', microphone: 'publish_audio', screen: 'publish_screen' }
const GATHER_CAP_MS = 2000
const CONNECT_WITHIN_MS = 15_000
const DISCONNECTED_GRACE_MS = 4000

/** Wait until the peer connection gathered its ICE candidates (capped: aiortc does not trickle). */
export function gathered(pc: RTCPeerConnection, capMs = GATHER_CAP_MS): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      window.clearTimeout(timer)
      pc.removeEventListener('icegatheringstatechange', check)
      resolve()
    }
    const check = (): void => {
      if (pc.iceGatheringState === 'complete') done()
    }
    const timer = window.setTimeout(done, capMs)
    pc.addEventListener('icegatheringstatechange', check)
  })
}

/** The ICE username fragment and DTLS fingerprint of an SDP: a change means a new server PC. */
export function transportOf(sdp: string | undefined): string {
  if (!sdp) return ''
  const ufrag = /^a=ice-ufrag:(.+)$/m.exec(sdp)?.[1] ?? ''
  const fingerprint = /^a=fingerprint:(.+)$/m.exec(sdp)?.[1] ?? ''
  return `${ufrag.trim()} ${fingerprint.trim()}`
}

/** Exponential backoff with jitter for re-creating a failed peer connection. */
export function backoff(attempt: number): number {
  return Math.min(15_000, 1000 * 2 ** Math.min(attempt, 4)) * (0.75 + Math.random() / 2)
}

/** Watches one peer connection and calls ``failed`` once when its ICE/DTLS is gone for good. */
function watch(pc: RTCPeerConnection, failed: () => void, connected: () => void): () => void {
  let grace = 0
  let over = false
  const fail = (): void => {
    if (over) return
    over = true
    stop()
    failed()
  }
  const never = window.setTimeout(fail, CONNECT_WITHIN_MS)
  const onState = (): void => {
    window.clearTimeout(grace)
    switch (pc.connectionState) {
      case 'connected':
        window.clearTimeout(never)
        connected()
        break
      case 'failed':
        fail()
        break
      case 'disconnected':
        grace = window.setTimeout(fail, DISCONNECTED_GRACE_MS)
        break
    }
  }
  const stop = (): void => {
    over = true
    window.clearTimeout(never)
    window.clearTimeout(grace)
    pc.removeEventListener('connectionstatechange', onState)
  }
  pc.addEventListener('connectionstatechange', onState)
  return stop
}

export class MediaClient {
  /** This browser's own tracks, by source. */
  readonly local = new Map<Source, MediaStreamTrack>()
  /** What the server forwards to us, by track id. */
  readonly remote = new Map<string, RemoteTrack>()
  /** Sources being started (waiting for a device or the server). */
  readonly starting = new Set<Source>()
  pub: RTCPeerConnection | null = null
  sub: RTCPeerConnection | null = null
  closed = false
  private grants = new Set<string>()
  private connId = ''
  private queue: Promise<unknown> = Promise.resolve()
  private unwatchPub: () => void = () => {}
  private unwatchSub: () => void = () => {}
  private pubAttempt = 0
  private subAttempt = 0
  private pubTimer = 0
  private subTimer = 0
  private freshSub = true
  private subWatched = false
  // The transport (ICE ufrag + DTLS fingerprint) of the server's last offer, as the server
  // wrote it: the browser re-serialises remoteDescription (one fingerprint kept of several).
  private subTransport = ''
  private latestOffer: Message | null = null
  private answering = false
  private iceServers: RTCIceServer[] = []

  constructor(
    private readonly signal: Signal,
    private readonly handlers: MediaHandlers,
  ) {}

  /** A welcome arrived: a new room connection means the server has no PCs for us any more. */
  joined(connId: string, grants: Iterable<string>, iceServers: RTCIceServer[] = []): void {
    this.iceServers = iceServers
    this.setGrants(grants)
    if (this.closed || connId === this.connId) return
    this.connId = connId
    this.resetPeers()
    void this.subscribe()
    if (this.local.size) this.enqueue(() => this.publish())
  }

  /** The role or the room's settings changed: drop sources we may no longer publish. */
  setGrants(grants: Iterable<string>): void {
    this.grants = new Set(grants)
    for (const source of [...this.local.keys()]) {
      if (!this.may(source)) void this.stop(source)
    }
  }

  may(source: Source): boolean {
    return this.grants.has(GRANT[source])
  }

  has(source: Source): boolean {
    return this.local.has(source)
  }

  toggle(source: Source): Promise<void> {
    return this.local.has(source) ? this.stop(source) : this.start(source)
  }

  /** Turn a source on: ask for the device, then publish everything we send. */
  start(source: Source): Promise<void> {
    return this.enqueue(async () => {
      if (this.closed || this.local.has(source) || !this.may(source)) return
      this.starting.add(source)
      this.handlers.changed()
      try {
        let track: MediaStreamTrack | undefined
        try {
          track = await capture(source)
        } catch (error) {
          this.handlers.notice(deviceError(source, error), 'error')
          return
        }
        if (!track || this.closed) {
          track?.stop()
          return
        }
        track.addEventListener('ended', () => {
          if (this.local.get(source) === track) void this.stop(source)
        })
        this.local.set(source, track)
        const published = await this.publish()
        if (!published) {
          track.stop()
          this.local.delete(source)
          if (this.local.size) await this.publish()
        } else {
          this.handlers.status(source, true)
        }
      } finally {
        this.starting.delete(source)
        this.handlers.changed()
      }
    })
  }

  /** Turn a source off: stop the device and tell the server to stop forwarding it. */
  stop(source: Source, tellServer = true): Promise<void> {
    const track = this.local.get(source)
    if (!track) return Promise.resolve()
    track.stop()
    this.local.delete(source)
    this.handlers.changed()
    return this.enqueue(async () => {
      const sender = this.pub?.getSenders().find((s) => s.track === track)
      if (sender) await sender.replaceTrack(null).catch(() => undefined)
      if (tellServer) await this.signal.send({ type: 'media.unpublish', source }).catch(() => undefined)
      this.handlers.status(source, false)
    })
  }

  /** A host stopped one of our sources server-side: stop it here too (only we may resume). */
  stoppedByHost(source: Source): void {
    if (!this.local.has(source)) return
    void this.stop(source, false)
  }

  /** The room announced that a track went away: stop showing it before the renegotiation. */
  forget(trackId: string): void {
    if (this.remote.delete(trackId)) this.handlers.changed()
  }

  /** A media.offer from the server: answer the latest one (older ones are stale anyway). */
  offer(message: Message): void {
    if (this.closed) return
    this.latestOffer = message
    if (!this.answering) void this.answerOffers()
  }

  /** Leave: close both peer connections and release the devices. */
  close(): void {
    this.closed = true
    for (const track of this.local.values()) track.stop()
    this.local.clear()
    this.resetPeers()
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task, task)
    this.queue = next.catch(() => undefined)
    return next
  }

  private resetPeers(): void {
    window.clearTimeout(this.pubTimer)
    window.clearTimeout(this.subTimer)
    this.unwatchPub()
    this.unwatchSub()
    this.pub?.close()
    this.sub?.close()
    this.pub = null
    this.sub = null
    this.freshSub = true
    this.latestOffer = null
    if (this.remote.size) {
      this.remote.clear()
      this.handlers.changed()
    }
  }

  // ------------------------------------------------------------ publisher

  /** Offer everything we send on a new publisher PC (media.publish replaces the old one). */
  private async publish(): Promise<boolean> {
    window.clearTimeout(this.pubTimer)
    this.unwatchPub()
    this.pub?.close()
    this.pub = null
    if (this.closed || !this.local.size) return true
    const pc = new RTCPeerConnection({ iceServers: this.iceServers })
    this.pub = pc
    const tracks: { mid: string; source: Source }[] = []
    const transceivers: [RTCRtpTransceiver, Source][] = []
    for (const [source, track] of this.local) {
      const transceiver = pc.addTransceiver(track, {
        direction: 'sendonly',
        streams: [new MediaStream([track])],
        sendEncodings: track.kind === 'video' ? [{ maxBitrate: source === 'screen' ? 1_500_000 : 800_000 }] : undefined,
      })
      if (track.kind === 'video') preferCodecs(transceiver)
      transceivers.push([transceiver, source])
    }
    try {
      await pc.setLocalDescription(await pc.createOffer())
      await gathered(pc)
      for (const [transceiver, source] of transceivers) tracks.push({ mid: transceiver.mid ?? '', source })
      const reply = await this.signal.send({ type: 'media.publish', sdp: pc.localDescription?.sdp ?? '', tracks })
      if (pc !== this.pub) return true
      await pc.setRemoteDescription({ type: 'answer', sdp: reply.sdp })
    } catch (error) {
      if (pc === this.pub) {
        pc.close()
        this.pub = null
      }
      if (error instanceof CommandError && error.code === 'not-connected') return true // the next welcome publishes again
      this.handlers.notice(publishError(error), 'error')
      return false
    }
    this.unwatchPub = watch(
      pc,
      () => this.retryPublish(),
      () => {
        this.pubAttempt = 0
      },
    )
    return true
  }

  private retryPublish(): void {
    if (this.closed) return
    window.clearTimeout(this.pubTimer)
    this.pubTimer = window.setTimeout(() => {
      if (this.local.size) void this.enqueue(() => this.publish())
    }, backoff(this.pubAttempt++))
  }

  // ------------------------------------------------------------ subscriber

  /** Ask for a (new) subscriber PC; the server answers with a media.offer. */
  private async subscribe(): Promise<void> {
    window.clearTimeout(this.subTimer)
    this.unwatchSub()
    this.freshSub = true
    try {
      await this.signal.send({ type: 'media.subscribe' })
    } catch (error) {
      // A refusal (no media on this server, unknown type) is final; only transient trouble is retried.
      if (error instanceof CommandError && error.code !== 'rate-limited') return
      this.retrySubscribe()
    }
  }

  private retrySubscribe(): void {
    if (this.closed) return
    window.clearTimeout(this.subTimer)
    this.subTimer = window.setTimeout(() => void this.subscribe(), backoff(this.subAttempt++))
  }

  private async answerOffers(): Promise<void> {
    this.answering = true
    try {
      while (this.latestOffer && !this.closed) {
        const offer = this.latestOffer
        this.latestOffer = null
        await this.answer(offer)
      }
    } finally {
      this.answering = false
    }
  }

  private async answer(offer: Message): Promise<void> {
    let pc = this.sub
    const transport = transportOf(offer.sdp)
    if (!pc || this.freshSub || this.subTransport !== transport) {
      this.unwatchSub()
      pc?.close()
      pc = new RTCPeerConnection({ iceServers: this.iceServers })
      this.sub = pc
      this.freshSub = false
      this.subWatched = false
    }
    if (!this.subWatched && /^m=/m.test(offer.sdp ?? '')) {
      // Watched from the first offer that carries media: an empty one never connects.
      this.subWatched = true
      const watched = pc
      this.unwatchSub = watch(
        watched,
        () => {
          if (watched === this.sub) this.retrySubscribe()
        },
        () => {
          this.subAttempt = 0
        },
      )
    }
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp })
      this.subTransport = transport
      this.mapTracks(pc, offer.tracks ?? [])
      await pc.setLocalDescription(await pc.createAnswer())
      await gathered(pc)
      if (pc !== this.sub || this.latestOffer) return // superseded while gathering
      await this.signal.send({ type: 'media.answer', sdp: pc.localDescription?.sdp ?? '', version: offer.version })
    } catch (error) {
      if (error instanceof CommandError && ['stale-offer', 'not-connected'].includes(error.code)) return
      if (pc === this.sub) this.retrySubscribe()
    }
  }

  /** Which receiver carries which published track, per the offer's ``tracks`` list. */
  private mapTracks(pc: RTCPeerConnection, listed: (TrackInfo & { mid: string })[]): void {
    const byMid = new Map(pc.getTransceivers().map((t) => [t.mid, t]))
    this.remote.clear()
    for (const entry of listed) {
      const transceiver = byMid.get(entry.mid)
      if (!transceiver || transceiver.receiver.track.kind !== entry.kind) continue
      const info: TrackInfo = { track_id: entry.track_id, user_id: entry.user_id, conn_id: entry.conn_id, kind: entry.kind, source: entry.source }
      this.remote.set(entry.track_id, { info, track: transceiver.receiver.track })
    }
    this.handlers.changed()
  }
}

function publishError(error: unknown): string {
  if (error instanceof CommandError) {
    if (error.code === 'forbidden') return 'You may not publish this here.'
    if (error.code === 'too-many-tracks') return 'The room has too many cameras and microphones on: try again later.'
    return `The server refused the media: ${error.message}`
  }
  return `Media failed: ${error instanceof Error ? error.message : String(error)}`
}
