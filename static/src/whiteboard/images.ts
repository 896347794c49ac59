// Images on the board: a picture file becomes a data: URL small enough for one document
// update (scaled down and re-encoded when it is not), and every image gets a text
// alternative, asked for when it is added and editable later (the `alt` field; empty means
// decorative, said so explicitly). ``insertImage`` and ``describeImage`` do both on the board.

import { append, h, toast } from '../dom'
import { t } from '../i18n'
import { MAX_SRC } from './fields'
import type { BoardModel, Shape } from './model'
import type { BoardState } from './state'

/** Image types the board draws (docs/protocol.md, "Whiteboard images"). */
const TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp']
/** A data: URL this long fits one update with room to spare (the server caps updates). */
const MAX_URL = Math.min(MAX_SRC, 700_000)
/** Longest side an image is scaled down to when it is too big as it is. */
const MAX_SIDE = 1600
/** Longest side an image is drawn at on the board when added. */
const BOARD_SIDE = 360
/** Tiny images are drawn at least this big, so they can be seen and picked. */
const MIN_SIDE = 80

export interface PickedImage {
  src: string
  w: number
  h: number
}

/** Ask for an image file; null when none was chosen. */
export function pickFile(): Promise<File | null> {
  return new Promise((resolve) => {
    const input = h('input', { type: 'file', accept: TYPES.join(','), hidden: true, 'aria-label': t('whiteboard.image.pick') })
    input.addEventListener('change', () => {
      resolve(input.files?.[0] ?? null)
      input.remove()
    })
    input.addEventListener('cancel', () => {
      resolve(null)
      input.remove()
    })
    document.body.appendChild(input)
    input.click()
  })
}

function readAsDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(String(reader.result))
    reader.onerror = () => reject(reader.error ?? new Error('unreadable'))
    reader.readAsDataURL(blob)
  })
}

/** The file as a data: URL the board accepts, and the size to draw it at. */
export async function loadImage(file: Blob): Promise<PickedImage> {
  if (!TYPES.includes(file.type)) throw new Error(t('whiteboard.image.unreadable'))
  let src = await readAsDataUrl(file)
  const image = new Image()
  image.src = src
  try {
    await image.decode()
  } catch {
    throw new Error(t('whiteboard.image.unreadable'))
  }
  const width = image.naturalWidth || 1
  const height = image.naturalHeight || 1
  if (src.length > MAX_URL) {
    // Too big as it is: scale down and re-encode until it fits.
    let scale = Math.min(1, MAX_SIDE / Math.max(width, height))
    for (let attempt = 0; attempt < 5 && src.length > MAX_URL; attempt++) {
      const canvas = document.createElement('canvas')
      canvas.width = Math.max(1, Math.round(width * scale))
      canvas.height = Math.max(1, Math.round(height * scale))
      ;(canvas.getContext('2d') as CanvasRenderingContext2D).drawImage(image, 0, 0, canvas.width, canvas.height)
      src = canvas.toDataURL('image/webp', 0.82)
      if (!src.startsWith('data:image/webp')) src = canvas.toDataURL('image/jpeg', 0.82)
      scale *= 0.7
    }
    if (src.length > MAX_URL) throw new Error(t('whiteboard.image.tooBig'))
  }
  const side = Math.max(width, height)
  const fit = side > BOARD_SIDE ? BOARD_SIDE / side : side < MIN_SIDE ? MIN_SIDE / side : 1
  return { src, w: Math.round(width * fit), h: Math.round(height * fit) }
}

/** Ask for an image's alt text (``current``: editing one); null when cancelled. */
export function askAlt(current: string | null = null): Promise<string | null> {
  return new Promise((resolve) => {
    const dialog = h('dialog.dialog', { 'aria-labelledby': 'board-alt-title' })
    const field = h('textarea#board-alt-text', { rows: 3, maxlength: 1000, 'aria-describedby': 'board-alt-hint' })
    field.value = current ?? ''
    const decorative = h('input#board-alt-decorative', { type: 'checkbox', checked: current === '' })
    const sync = (): void => {
      field.disabled = decorative.checked
    }
    decorative.addEventListener('change', sync)
    sync()
    let result: string | null = null
    const form = h(
      'form',
      {
        method: 'dialog',
        onsubmit: (event: SubmitEvent) => {
          if ((event.submitter as HTMLButtonElement | null)?.value !== 'save') return
          result = decorative.checked ? '' : field.value.trim()
        },
      },
      h('label', { for: 'board-alt-text' }, t('whiteboard.image.alt')),
      h('p#board-alt-hint.muted', null, t('whiteboard.image.altHint')),
      field,
      h('label.check', null, decorative, t('whiteboard.image.decorative')),
      h(
        'div.row.end',
        null,
        h('button', { type: 'submit', value: 'cancel', formnovalidate: true }, t('dialog.cancel')),
        h('button.primary', { type: 'submit', value: 'save' }, t('whiteboard.image.save')),
      ),
    )
    append(dialog, [h('h2#board-alt-title', null, t(current === null ? 'whiteboard.image.describe' : 'whiteboard.image.edit')), form])
    dialog.addEventListener('close', () => {
      dialog.remove()
      resolve(result)
    })
    document.body.appendChild(dialog)
    dialog.showModal()
    field.focus()
  })
}

/**
 * Ask for an image file and its description, then add it at the keyboard cursor; ``added``
 * gets the model and the new shape's id. Focus goes back to ``canvas`` after the dialog.
 */
export async function insertImage(state: BoardState, canvas: HTMLElement, added: (model: BoardModel, id: string) => void): Promise<void> {
  if (state.readOnly || !state.model) return
  const file = await pickFile()
  if (!file) return
  let picked
  try {
    picked = await loadImage(file)
  } catch (error) {
    toast(error instanceof Error ? error.message : String(error), 'error')
    return
  }
  const alt = await askAlt()
  const model = state.model
  if (alt === null || !model || state.readOnly) return canvas.focus()
  const { x, y } = state.cursor
  const id = model.add({ type: 'image', x, y, w: picked.w, h: picked.h, src: picked.src, alt, page: state.page })
  canvas.focus()
  added(model, id)
}

/** Edit the description of the image ``shape``; focus goes back to ``canvas``. */
export async function describeImage(state: BoardState, canvas: HTMLElement, shape: Shape): Promise<void> {
  const alt = await askAlt(shape.alt ?? '')
  canvas.focus()
  if (alt === null || state.readOnly) return
  state.model?.update(shape.id, { alt })
}
