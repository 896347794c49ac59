// Per-browser preferences in localStorage. Storage can be off or full (private windows,
// blocked site data): reading then gives null and writing does nothing, so a setting lasts
// until the page reloads and the page itself keeps working. dom.ts re-exports them; the
// message catalogue and the REST client import them from here (dom.ts imports the catalogue).

/** The stored value of ``key``, or null when there is none or storage is off. */
export function readPref(key: string): string | null {
  try {
    return localStorage.getItem(key)
  } catch {
    return null
  }
}

/** Store ``value`` under ``key``; false when storage is off (nothing is kept). */
export function writePref(key: string, value: string): boolean {
  try {
    localStorage.setItem(key, value)
    return true
  } catch {
    return false
  }
}

/** Forget ``key`` (nothing happens when storage is off). */
export function removePref(key: string): void {
  try {
    localStorage.removeItem(key)
  } catch {
    // storage off: nothing was kept
  }
}
