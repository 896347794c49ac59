// Peer connection plumbing shared by the publisher (media.ts) and the subscriber
// (subscription.ts): waiting for ICE gathering, telling server transports apart, retry
// backoff, and watching a connection until it fails for good.

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
export function watch(pc: RTCPeerConnection, failed: () => void, connected: () => void): () => void {
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
