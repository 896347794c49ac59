// The subscriber side of the room's media (docs/protocol.md, "Media"): the peer connection
// the server feeds with everyone else's tracks. The server offers (media.offer) whenever the
// set of tracks changes; the latest offer is answered, and a new server transport (its own
// ICE ufrag and DTLS fingerprint) means a new peer connection here.

import { CommandError } from './connection'
import type { MediaOffer } from './protocol.gen'
import type { RemoteTrack, Signal, TrackInfo } from './media'
import { backoff, gathered, transportOf, watch } from './peers'

/** This browser's subscriber peer connection and the remote tracks it carries. */
export class Subscription {
  /** What the server forwards to us, by track id. */
  readonly remote = new Map<string, RemoteTrack>()
  pc: RTCPeerConnection | null = null
  closed = false
  iceServers: RTCIceServer[] = []
  private unwatch: () => void = () => {}
  private attempt = 0
  private timer = 0
  private fresh = true
  private watched = false
  // The transport (ICE ufrag + DTLS fingerprint) of the server's last offer, as the server
  // wrote it: the browser re-serialises remoteDescription (one fingerprint kept of several).
  private transport = ''
  private latestOffer: MediaOffer | null = null
  private answering = false

  constructor(
    private readonly signal: Signal,
    private readonly changed: () => void,
  ) {}

  /** A media.offer from the server: answer the latest one (older ones are stale anyway). */
  offer(message: MediaOffer): void {
    if (this.closed) return
    this.latestOffer = message
    if (!this.answering) void this.answerOffers()
  }

  /** The room announced that a track went away: stop showing it before the renegotiation. */
  forget(trackId: string): void {
    if (this.remote.delete(trackId)) this.changed()
  }

  /** Drop the peer connection and its tracks (a new room connection, or leaving). */
  reset(): void {
    window.clearTimeout(this.timer)
    this.unwatch()
    this.pc?.close()
    this.pc = null
    this.fresh = true
    this.latestOffer = null
    if (this.remote.size) {
      this.remote.clear()
      this.changed()
    }
  }

  /** Leave for good. */
  close(): void {
    this.closed = true
    this.reset()
  }

  /** Ask for a (new) subscriber PC; the server answers with a media.offer. */
  async subscribe(): Promise<void> {
    window.clearTimeout(this.timer)
    this.unwatch()
    this.fresh = true
    try {
      await this.signal.send({ type: 'media.subscribe' })
    } catch (error) {
      // A refusal (no media on this server, unknown type) is final; only transient trouble is retried.
      if (error instanceof CommandError && error.code !== 'rate-limited') return
      this.retry()
    }
  }

  private retry(): void {
    if (this.closed) return
    window.clearTimeout(this.timer)
    this.timer = window.setTimeout(() => void this.subscribe(), backoff(this.attempt++))
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

  private async answer(offer: MediaOffer): Promise<void> {
    let pc = this.pc
    const transport = transportOf(offer.sdp)
    if (!pc || this.fresh || this.transport !== transport) {
      this.unwatch()
      pc?.close()
      pc = new RTCPeerConnection({ iceServers: this.iceServers })
      this.pc = pc
      this.fresh = false
      this.watched = false
    }
    if (!this.watched && /^m=/m.test(offer.sdp ?? '')) {
      // Watched from the first offer that carries media: an empty one never connects.
      this.watched = true
      const watchedPc = pc
      this.unwatch = watch(
        watchedPc,
        () => {
          if (watchedPc === this.pc) this.retry()
        },
        () => {
          this.attempt = 0
        },
      )
    }
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp })
      this.transport = transport
      this.mapTracks(pc, offer.tracks ?? [])
      await pc.setLocalDescription(await pc.createAnswer())
      await gathered(pc)
      if (pc !== this.pc || this.latestOffer) return // superseded while gathering
      await this.signal.send({ type: 'media.answer', sdp: pc.localDescription?.sdp ?? '', version: offer.version })
    } catch (error) {
      if (error instanceof CommandError && ['stale-offer', 'not-connected'].includes(error.code)) return
      if (pc === this.pc) this.retry()
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
    this.changed()
  }
}
