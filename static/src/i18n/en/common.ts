// Messages shared by every page: the shell, dialogs, toasts.

export const common = {
  'app.name': 'liveclass',
  'app.loading': 'Loading liveclass…',
  'app.titleSuffix': '{title} · liveclass',
  'app.notFound.title': 'Not found',
  'app.notFound.heading': 'Page not found',
  'app.error.title': 'Error',
  'app.error.heading': 'Something went wrong',
  'app.goHome': 'Go to my rooms',
  'skip.main': 'Skip to main content',
  'skip.chat': 'Skip to chat',
  'skip.controls': 'Skip to my controls',
  'dialog.cancel': 'Cancel',
  'dialog.ok': 'OK',
  'dialog.close': 'Close',
  'toast.dismiss': 'Dismiss',
  // Key names as keyboards print them (a translation uses its own: Strg, Umschalt, …).
  'keys.ctrl': 'Ctrl',
  'keys.shift': 'Shift',
  'keys.alt': 'Alt',
  'keys.enter': 'Enter',
  'keys.esc': 'Esc',
  'keys.home': 'Home',
  'keys.end': 'End',
} as const
