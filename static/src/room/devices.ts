// This browser's media devices for the room: camera, microphone and screen capture, and the
// video codec order the server can forward.

import { t } from '../i18n'
import type { Source } from './media'

const VIDEO_CODECS = ['video/VP8', 'video/H264']

/** Open the device behind ``source`` (the browser asks the person first). */
export async function capture(source: Source): Promise<MediaStreamTrack | undefined> {
  if (source === 'screen') {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false })
    return stream.getVideoTracks()[0]
  }
  const stream = await navigator.mediaDevices.getUserMedia(
    source === 'camera'
      ? { video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24, max: 30 } } }
      : { audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } },
  )
  return source === 'camera' ? stream.getVideoTracks()[0] : stream.getAudioTracks()[0]
}

/** Put the codecs the server forwards (VP8, H.264) first; keep RTX and the rest after. */
export function preferCodecs(transceiver: RTCRtpTransceiver): void {
  const codecs = RTCRtpSender.getCapabilities?.('video')?.codecs
  if (!codecs || !transceiver.setCodecPreferences) return
  const rank = (mime: string): number => {
    const index = VIDEO_CODECS.indexOf(mime)
    return index < 0 ? VIDEO_CODECS.length : index
  }
  try {
    transceiver.setCodecPreferences([...codecs].sort((a, b) => rank(a.mimeType) - rank(b.mimeType)))
  } catch {
    // the browser's default order still includes VP8
  }
}

export function deviceError(source: Source, error: unknown): string {
  const name = error instanceof DOMException ? error.name : ''
  const device = t(`device.${source}`)
  if (name === 'NotAllowedError') return t('device.notAllowed', { device })
  if (name === 'NotFoundError') return t('device.notFound', { device })
  if (name === 'NotReadableError') return t('device.inUse', { device })
  return t('device.failed', { device })
}
