// The video player page.

export const watch = {
  'watch.title': 'Video',
  'watch.loading': 'Loading the video…',
  'watch.missing': 'This video could not be found.',
  'watch.processing': 'This video is being prepared: {percent} done.',
  'watch.transcoding': 'Preparing the video',
  'watch.failed': 'This video could not be prepared: {reason}',
  'watch.quality': 'Quality',
  'watch.quality.auto': 'Automatic',
  'watch.quality.level': '{height}p',
  'watch.playing': 'Playing {height}p',
  'watch.speed': 'Speed',
  'watch.speed.value': '{rate}×',
  'watch.resumed': 'Resuming where you left off, at {at}.',
} as const
