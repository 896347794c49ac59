// The WebRTC side of the room (docs/protocol.md, "Media"): a publisher peer connection that
// sends this browser's camera, microphone and screen to the server, and a subscriber peer
// connection that the server feeds with everyone else's tracks (subscription.ts). All
// signalling rides the room channel; aiortc does not trickle ICE, so every SDP waits for
// gathering to finish.

import { t } from '../i18n'
import { CommandError } from './connection'
import { capture, deviceError, preferCodecs } from './devices'
import { backoff, gathered, watch } from './peers'
import type { Ack, ClientMessage, MediaOffer, TrackInfo } from './protocol.gen'
import { Subscription } from './subscription'

export type Source = TrackInfo['source']
export type { TrackInfo }

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
  send(message: ClientMessage): Promise<Ack>
}

const GRANT: Record<Source, string> = { camera: 'publish_video', microphone: 'publish_audio', screen: 'publish_screen' }
export class MediaClient {
  /** This browser's own tracks, by source. */
  readonly local = new Map<Source, MediaStreamTrack>()
  /** Sources being started (waiting for a device or the server). */
  readonly starting = new Set<Source>()
  pub: RTCPeerConnection | null = null
  closed = false
  private readonly subscription: Subscription
  private grants = new Set<string>()
  private connId = ''
  private queue: Promise<unknown> = Promise.resolve()
  private unwatchPub: () => void = () => {}
  private pubAttempt = 0
  private pubTimer = 0
  private iceServers: RTCIceServer[] = []

  constructor(
    private readonly signal: Signal,
    private readonly handlers: MediaHandlers,
  ) {
    this.subscription = new Subscription(signal, () => handlers.changed())
  }

  /** What the server forwards to us, by track id. */
  get remote(): Map<string, RemoteTrack> {
    return this.subscription.remote
  }

  /** The subscriber peer connection, if there is one. */
  get sub(): RTCPeerConnection | null {
    return this.subscription.pc
  }

  /** A welcome arrived: a new room connection means the server has no PCs for us any more. */
  joined(connId: string, grants: Iterable<string>, iceServers: RTCIceServer[] = []): void {
    this.iceServers = iceServers
    this.subscription.iceServers = iceServers
    this.setGrants(grants)
    if (this.closed || connId === this.connId) return
    this.connId = connId
    this.resetPeers()
    void this.subscription.subscribe()
    if (this.local.size) this.enqueue(() => this.publish())
  }

  /** media.reconnect: the node serving our peer connections is gone; start over on the new one. */
  reconnect(): void {
    if (this.closed) return
    this.resetPeers()
    void this.subscription.subscribe()
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
    this.subscription.forget(trackId)
  }

  /** A media.offer from the server: answer the latest one (older ones are stale anyway). */
  offer(message: MediaOffer): void {
    this.subscription.offer(message)
  }

  /** Leave: close both peer connections and release the devices. */
  close(): void {
    this.closed = true
    for (const track of this.local.values()) track.stop()
    this.local.clear()
    this.resetPeers()
    this.subscription.close()
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task, task)
    this.queue = next.catch(() => undefined)
    return next
  }

  private resetPeers(): void {
    window.clearTimeout(this.pubTimer)
    this.unwatchPub()
    this.pub?.close()
    this.pub = null
    this.subscription.reset()
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
}

function publishError(error: unknown): string {
  if (error instanceof CommandError) {
    if (error.code === 'forbidden') return t('media.forbidden')
    if (error.code === 'too-many-tracks') return t('media.tooMany')
    return t('media.refused', { message: error.message })
  }
  return t('media.failed', { message: error instanceof Error ? error.message : String(error) })
}
